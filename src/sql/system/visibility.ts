/**
 * Whether an object is visible by its bare name on the session's search path (namespace.c's
 * RelationIsVisible, TypeIsVisible, FunctionIsVisible): its namespace is on the path and no
 * namespace before it has an object of the same name (for functions, and the same arguments).
 */
import type { SystemContext } from './context.js';
import { searchPath } from './names.js';
import { P, procByOid, procsByName } from './proc-catalog.js';
import { relationByOid, relations } from './relations.js';
import { T, typeByOid, typeRows } from './type-catalog.js';

/** True if the first namespace on the path holding `has` is `namespace`. */
function firstOnPath(ctx: SystemContext, namespace: number, has: (ns: number) => boolean): boolean {
  for (const ns of searchPath(ctx)) {
    if (has(ns)) return ns === namespace;
  }
  return false;
}

/** `namespace/name` of every object, to ask whether a namespace has one of that name. */
function nameIndex(entries: Iterable<[number, string]>): ReadonlySet<string> {
  const set = new Set<string>();
  for (const [ns, name] of entries) set.add(`${ns}/${name}`);
  return set;
}

const relationNames = new Map<string, ReadonlySet<string>>();
let typeNames: ReadonlySet<string> | undefined;

export function relationIsVisible(ctx: SystemContext, oid: number): boolean | null {
  const rel = relationByOid(ctx.times, oid);
  if (rel === undefined) return null;
  let names = relationNames.get(ctx.times);
  if (names === undefined) {
    names = nameIndex(relations(ctx.times).map((r): [number, string] => [r.namespace, r.name]));
    relationNames.set(ctx.times, names);
  }
  const index = names;
  return firstOnPath(ctx, rel.namespace, (ns) => index.has(`${ns}/${rel.name}`));
}

export function typeIsVisible(ctx: SystemContext, oid: number): boolean | null {
  const t = typeByOid(oid);
  if (t === undefined) return null;
  typeNames ??= nameIndex(typeRows().map((r): [number, string] => [r[T.typnamespace], r[T.typname]]));
  const index = typeNames;
  return firstOnPath(ctx, t[T.typnamespace], (ns) => index.has(`${ns}/${t[T.typname]}`));
}

export function functionIsVisible(ctx: SystemContext, oid: number): boolean | null {
  const p = procByOid(oid);
  if (p === undefined) return null;
  const args = p[P.proargtypes].join(' ');
  return firstOnPath(ctx, p[P.pronamespace], (ns) => procsByName(p[P.proname]).some((q) => q[P.pronamespace] === ns && q[P.proargtypes].join(' ') === args));
}
