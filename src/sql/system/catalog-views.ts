/** pg_catalog's views over relations: pg_tables, pg_views, pg_indexes (pg_matviews and pg_sequences are empty). */
import type { Value } from '../types.js';
import type { SystemContext } from './context.js';
import { namespaceName } from './names.js';
import { relationByOid, relations } from './relations.js';
import { indexDef, viewDef } from './ruleutils.js';

export function pgTablesRows(ctx: SystemContext): Value[][] {
  return relations(ctx.times)
    .filter((r) => r.kind === 'r')
    .map((r) => [namespaceName(r.namespace) ?? null, r.name, ctx.user, r.shared ? 'pg_global' : null, true, r.hasRules, false, false]);
}

export function pgViewsRows(ctx: SystemContext): Value[][] {
  return relations(ctx.times)
    .filter((r) => r.kind === 'v')
    .map((r) => [namespaceName(r.namespace) ?? null, r.name, ctx.user, viewDef(ctx, r.oid)]);
}

export function pgIndexesRows(ctx: SystemContext): Value[][] {
  return relations(ctx.times).flatMap((r) => {
    const table = r.kind === 'i' && r.indexOf !== undefined ? relationByOid(ctx.times, r.indexOf) : undefined;
    return table === undefined ? [] : [[namespaceName(table.namespace) ?? null, table.name, r.name, null, indexDef(ctx, r.oid)]];
  });
}
