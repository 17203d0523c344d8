/**
 * Definitions as PostgreSQL 15's ruleutils.c prints them, for allot's objects: pg_get_indexdef,
 * pg_get_constraintdef, pg_get_viewdef, pg_get_ruledef. allot's views are computed by allot;
 * their definitions are those of the stand-in views in test/sql/system/fixtures/allot-schema.sql
 * (a typed, empty SELECT), as PostgreSQL shows them. System views' are PostgreSQL's own.
 */
import type { SystemContext } from './context.js';
import { PG_VIEW_DEFINITIONS } from './data/pg-relations.js';
import { formatType } from './format-type.js';
import { namespaceName, quoteIdent, quoteQualified } from './names.js';
import { derivedOid } from './oids.js';
import { isAllot, relationByOid, relations, type CatalogRelation } from './relations.js';
import { relationIsVisible } from './visibility.js';

/** A relation's name, schema-qualified always or (pretty) only when not visible. */
function relationName(ctx: SystemContext, rel: CatalogRelation, qualify: 'always' | 'if-hidden'): string {
  const hidden = qualify === 'always' || relationIsVisible(ctx, rel.oid) !== true;
  return quoteQualified(hidden ? (namespaceName(rel.namespace) ?? null) : null, rel.name);
}

/** pg_get_indexdef(index, column, pretty): column 0 the CREATE INDEX, k its k-th column ('' past the end). */
export function indexDef(ctx: SystemContext, oid: number, column = 0, pretty = false): string | null {
  const idx = relationByOid(ctx.times, oid);
  if (idx?.kind !== 'i' || idx.indexOf === undefined) return null;
  const table = relationByOid(ctx.times, idx.indexOf);
  if (table === undefined) return null;
  if (column > 0) {
    const c = idx.columns[column - 1];
    return c === undefined ? '' : quoteIdent(c.name);
  }
  const cols = idx.columns.map((c) => quoteIdent(c.name)).join(', ');
  return `CREATE UNIQUE INDEX ${quoteIdent(idx.name)} ON ${relationName(ctx, table, pretty ? 'if-hidden' : 'always')} USING btree (${cols})`;
}

/** pg_get_constraintdef: allot's constraints are the primary keys. */
export function constraintDef(ctx: SystemContext, oid: number): string | null {
  for (const r of relations(ctx.times)) {
    if (r.primaryKey?.constraint === oid) return `PRIMARY KEY (${quoteIdent(r.columns[r.primaryKey.attnum - 1]?.name ?? 'id')})`;
  }
  return null;
}

/** pg_get_viewdef: null for a relation that is not a view. */
export function viewDef(ctx: SystemContext, oid: number, pretty = false): string | null {
  const rel = relationByOid(ctx.times, oid);
  if (rel?.kind !== 'v') return null;
  if (isAllot(rel)) {
    const cols = rel.columns.map((c) => `NULL::${formatType(ctx, c.typeOid, null)} AS ${quoteIdent(c.name)}`);
    return ` SELECT ${cols.join(',\n    ')}\n  WHERE false;`;
  }
  const def = PG_VIEW_DEFINITIONS.find(([o]) => o === oid);
  if (def === undefined) return null;
  return pretty ? (def[2] ?? def[1]) : def[1];
}

/** pg_get_ruledef: the ON SELECT rule of an allot view. */
export function ruleDef(ctx: SystemContext, oid: number, pretty = false): string | null {
  const view = relations(ctx.times).find((r) => r.kind === 'v' && isAllot(r) && derivedOid.viewRule(r.oid) === oid);
  if (view === undefined) return null;
  const name = relationName(ctx, view, pretty ? 'if-hidden' : 'always');
  return `CREATE RULE "_RETURN" AS\n    ON SELECT TO ${name} DO INSTEAD ${viewDef(ctx, view.oid, pretty) ?? ''}`;
}
