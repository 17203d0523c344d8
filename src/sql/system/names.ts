/**
 * Names as PostgreSQL reads and writes them: quoting (quote_identifier), qualified-name input
 * (stringToQualifiedNameList), and the session's search path (namespace.c's recomputeNamespacePath).
 */
import { AllotError, SqlState } from '../../errors.js';
import type { SystemContext } from './context.js';
import { PG_KEYWORDS, PG_NAMESPACES } from './data/pg-misc.js';
import { Namespace } from './oids.js';

/** Keyword category by word: U unreserved, C column name, T type or function name, R reserved. */
export const KEYWORD_CATEGORY: ReadonlyMap<string, string> = new Map(PG_KEYWORDS.map(([word, cat]) => [word, cat]));

/** quote_ident(): quotes unless the name is lower-case, plain, and not a non-unreserved keyword. */
export function quoteIdent(name: string): string {
  const plain = /^[a-z_][a-z0-9_]*$/.test(name);
  const category = KEYWORD_CATEGORY.get(name);
  if (plain && (category === undefined || category === 'U')) return name;
  return `"${name.replaceAll('"', '""')}"`;
}

/** `schema.name`, each part quoted as needed; no schema gives just the name. */
export function quoteQualified(schema: string | null, name: string): string {
  return schema === null ? quoteIdent(name) : `${quoteIdent(schema)}.${quoteIdent(name)}`;
}

/** Lower-cases an unquoted identifier as PostgreSQL does (ASCII letters only). */
export function downcase(s: string): string {
  return s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
}

/**
 * Splits `a.b."C d"` into its names: unquoted parts lower-cased, quoted ones kept, `""` inside
 * quotes one quote. Empty parts are an error, as in PostgreSQL's stringToQualifiedNameList.
 */
export function splitQualifiedName(text: string, separator = '.'): string[] {
  const names: string[] = [];
  let i = 0;
  const skipSpace = (): void => {
    while (i < text.length && /\s/.test(text[i] ?? '')) i++;
  };
  skipSpace();
  if (i === text.length) throw invalidName();
  for (;;) {
    let name = '';
    if (text[i] === '"') {
      i++;
      for (;;) {
        const end = text.indexOf('"', i);
        if (end < 0) throw invalidName();
        name += text.slice(i, end);
        i = end + 1;
        if (text[i] !== '"') break;
        name += '"';
        i++;
      }
    } else {
      const start = i;
      while (i < text.length && text[i] !== separator && !/\s/.test(text[i] ?? '')) i++;
      if (i === start) throw invalidName();
      name = downcase(text.slice(start, i));
    }
    names.push(name);
    skipSpace();
    if (i === text.length) return names;
    if (text[i] !== separator) throw invalidName();
    i++;
    skipSpace();
    if (i === text.length) throw invalidName();
  }
}

function invalidName(): AllotError {
  return new AllotError(SqlState.invalidName, 'invalid name syntax');
}

/** Namespace oid by name, of the namespaces that exist. */
export function namespaceOid(name: string): number | undefined {
  return PG_NAMESPACES.find(([, n]) => n === name)?.[0];
}

/** Namespace name by oid. */
export function namespaceName(oid: number): string | undefined {
  return PG_NAMESPACES.find(([o]) => o === oid)?.[1];
}

/** The schemas of search_path that exist, as written (quoted parts kept); `$user` is the session user. */
function pathNames(ctx: SystemContext): string[] {
  const raw = ctx.setting('search_path') ?? '"$user", public';
  let parts: string[];
  try {
    parts = raw.trim() === '' ? [] : splitQualifiedName(raw, ',');
  } catch {
    parts = [];
  }
  return parts.map((p) => (p === '$user' ? ctx.user : p));
}

/**
 * The namespaces searched for unqualified names, in order: pg_catalog first unless the path names
 * it elsewhere, then the path's schemas that exist (current_schemas(true)).
 */
export function searchPath(ctx: SystemContext): number[] {
  const key = `${ctx.user}\u0000${ctx.setting('search_path') ?? ''}`;
  const cached = pathCache.get(key);
  if (cached !== undefined) return [...cached];
  const oids = resolvePath(ctx);
  if (pathCache.size >= PATH_CACHE_LIMIT) pathCache.clear();
  pathCache.set(key, oids);
  return [...oids];
}

/** Resolved search paths by user and setting: a catalog query asks once per row. */
const pathCache = new Map<string, readonly number[]>();
const PATH_CACHE_LIMIT = 64;

function resolvePath(ctx: SystemContext): number[] {
  const oids: number[] = [];
  for (const name of pathNames(ctx)) {
    const oid = namespaceOid(name);
    if (oid !== undefined && oid !== Namespace.pgToast && !oids.includes(oid)) oids.push(oid);
  }
  if (!oids.includes(Namespace.pgCatalog)) oids.unshift(Namespace.pgCatalog);
  return oids;
}

/** The path without the implicit pg_catalog (current_schemas(false)). */
export function explicitSearchPath(ctx: SystemContext): number[] {
  const named = new Set(pathNames(ctx).map((n) => namespaceOid(n)));
  return searchPath(ctx).filter((oid) => named.has(oid));
}

/** The namespace CREATE would use: the first of the explicit path (current_schema()). */
export function creationNamespace(ctx: SystemContext): number | undefined {
  return explicitSearchPath(ctx)[0];
}

/** A role name in an aclitem: quoted unless every character is alphanumeric or _ (acl.c's putid). */
function aclRoleName(name: string): string {
  return /^[A-Za-z0-9_]+$/.test(name) ? name : `"${name.replaceAll('"', '""')}"`;
}

/** An acl as stored with % for the owner (src/sql/system/data), for this owner. */
export function withOwner(acl: readonly string[] | null, owner: string): string[] | null {
  return acl === null ? null : acl.map((item) => item.replaceAll('%', aclRoleName(owner)));
}
