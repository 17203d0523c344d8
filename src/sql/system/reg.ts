/**
 * The reg* types: oids shown by name. regIn reads a name (or an oid) as PostgreSQL's regclassin,
 * regtypein, regprocin, regnamespacein and regrolein do, with their errors; regOut writes an oid
 * as their *out functions do (qualified when not visible, the number when unknown, `-` for 0).
 */
import { AllotError, SqlState } from '../../errors.js';
import { roleName, roleOid } from './catalog-global.js';
import type { SystemContext } from './context.js';
import { formatType } from './format-type.js';
import { namespaceName, namespaceOid, quoteIdent, quoteQualified, searchPath, splitQualifiedName } from './names.js';
import { Namespace } from './oids.js';
import { P, procByOid, procsByName, type PgProcRow } from './proc-catalog.js';
import { relationByName, relationByOid } from './relations.js';
import { T, typeByName, typeByOid } from './type-catalog.js';
import { parseTypeName } from './type-name.js';
import { relationIsVisible } from './visibility.js';

export type RegType = 'regclass' | 'regtype' | 'regproc' | 'regnamespace' | 'regrole';

/** The oid a reg* literal names; unknown names raise PostgreSQL's errors. */
export function regIn(type: RegType, text: string, ctx: SystemContext): number {
  const found = regLookup(type, text, ctx);
  if (typeof found === 'number') return found;
  throw found.error;
}

/** Like regIn, but null for a name that does not exist (to_regclass, to_regtype, …). */
export function regInOrNull(type: RegType, text: string, ctx: SystemContext): number | null {
  const found = regLookup(type, text, ctx);
  return typeof found === 'number' ? found : null;
}

type Lookup = number | { readonly error: AllotError };

function regLookup(type: RegType, text: string, ctx: SystemContext): Lookup {
  const s = text.trim();
  if (s === '-') return 0;
  if (/^\d+$/.test(text)) return Number(text);
  switch (type) {
    case 'regclass':
      return classLookup(text, ctx);
    case 'regtype':
      return typeLookup(text, ctx);
    case 'regproc':
      return procLookup(text, ctx);
    case 'regnamespace':
      return namespaceLookup(text);
    case 'regrole':
      return roleLookup(text, ctx);
  }
}

/** The namespaces a possibly qualified name is looked up in, or the error for its qualifier. */
function namespacesFor(names: readonly string[], ctx: SystemContext, tooMany: string): number[] | { readonly error: AllotError } {
  if (names.length > 3) throw new AllotError(SqlState.syntaxError, tooMany);
  if (names.length === 3 && names[0] !== ctx.database) {
    throw new AllotError(SqlState.featureNotSupported, `cross-database references are not implemented: "${names.join('.')}"`);
  }
  if (names.length === 1) return searchPath(ctx);
  const schema = names[names.length - 2] ?? '';
  const oid = namespaceOid(schema);
  return oid === undefined ? { error: new AllotError(SqlState.invalidSchemaName, `schema "${schema}" does not exist`) } : [oid];
}

function classLookup(text: string, ctx: SystemContext): Lookup {
  const names = splitQualifiedName(text);
  const spaces = namespacesFor(names, ctx, `improper relation name (too many dotted names): ${names.join('.')}`);
  if (!Array.isArray(spaces)) return spaces;
  const name = names[names.length - 1] ?? '';
  for (const ns of spaces) {
    const rel = relationByName(ctx.times, ns, name);
    if (rel !== undefined) return rel.oid;
  }
  const shown = names.length === 1 ? name : names.slice(-2).join('.');
  return { error: new AllotError(SqlState.undefinedTable, `relation "${shown}" does not exist`) };
}

function typeLookup(text: string, ctx: SystemContext): Lookup {
  const parsed = parseTypeName(text);
  const spaces = parsed.builtin
    ? [Namespace.pgCatalog]
    : namespacesFor(parsed.names, ctx, `improper qualified name (too many dotted names): ${parsed.names.join('.')}`);
  if (!Array.isArray(spaces)) return spaces;
  const name = parsed.names[parsed.names.length - 1] ?? '';
  for (const ns of spaces) {
    const t = typeByName(ns, name);
    if (t === undefined) continue;
    if (!parsed.array) return t[T.oid];
    if (t[T.typarray] !== 0) return t[T.typarray];
  }
  return { error: new AllotError(SqlState.undefinedObject, `type "${parsed.display}" does not exist`) };
}

function procLookup(text: string, ctx: SystemContext): Lookup {
  const names = splitQualifiedName(text);
  const spaces = namespacesFor(names, ctx, `improper qualified name (too many dotted names): ${names.join('.')}`);
  if (!Array.isArray(spaces)) return spaces;
  const candidates = candidatesOnPath(procsByName(names[names.length - 1] ?? ''), spaces);
  if (candidates.length === 1 && candidates[0] !== undefined) return candidates[0][P.oid];
  if (candidates.length === 0) return { error: new AllotError(SqlState.undefinedFunction, `function "${text}" does not exist`) };
  return { error: new AllotError(SqlState.ambiguousFunction, `more than one function named "${text}"`) };
}

/** Functions of a name as FuncnameGetCandidates finds them: the first on the path per argument list. */
function candidatesOnPath(procs: readonly PgProcRow[], spaces: readonly number[]): PgProcRow[] {
  const seen = new Set<string>();
  const out: PgProcRow[] = [];
  for (const ns of spaces) {
    for (const p of procs) {
      const args = p[P.proargtypes].join(' ');
      if (p[P.pronamespace] !== ns || seen.has(args)) continue;
      seen.add(args);
      out.push(p);
    }
  }
  return out;
}

function namespaceLookup(text: string): Lookup {
  const names = splitQualifiedName(text);
  if (names.length !== 1) throw new AllotError(SqlState.invalidName, 'invalid name syntax');
  const oid = namespaceOid(names[0] ?? '');
  return oid ?? { error: new AllotError(SqlState.invalidSchemaName, `schema "${names[0] ?? ''}" does not exist`) };
}

function roleLookup(text: string, ctx: SystemContext): Lookup {
  const names = splitQualifiedName(text);
  if (names.length !== 1) throw new AllotError(SqlState.invalidName, 'invalid name syntax');
  const oid = roleOid(ctx, names[0] ?? '');
  return oid ?? { error: new AllotError(SqlState.undefinedObject, `role "${names[0] ?? ''}" does not exist`) };
}

/** The text of a reg* value: its name (qualified when not visible), or the oid when it names nothing. */
export function regOut(type: RegType, oid: number, ctx: SystemContext): string {
  if (oid === 0) return '-';
  switch (type) {
    case 'regclass': {
      const rel = relationByOid(ctx.times, oid);
      if (rel === undefined) return String(oid);
      return quoteQualified(relationIsVisible(ctx, oid) === true ? null : (namespaceName(rel.namespace) ?? null), rel.name);
    }
    case 'regtype':
      return typeByOid(oid) === undefined ? String(oid) : formatType(ctx, oid, null);
    case 'regproc': {
      const p = procByOid(oid);
      if (p === undefined) return String(oid);
      const unique = candidatesOnPath(procsByName(p[P.proname]), searchPath(ctx));
      const visible = unique.length === 1 && unique[0]?.[P.oid] === oid;
      return quoteQualified(visible ? null : (namespaceName(p[P.pronamespace]) ?? null), p[P.proname]);
    }
    case 'regnamespace': {
      const name = namespaceName(oid);
      return name === undefined ? String(oid) : quoteIdent(name);
    }
    case 'regrole': {
      const name = roleName(ctx, oid);
      return name === undefined ? String(oid) : quoteIdent(name);
    }
  }
}
