/**
 * The functions that describe catalog objects: format_type, pg_get_expr, pg_get_*def,
 * pg_get_userbyid, the *_is_visible tests, obj_description and friends, pg_get_function_*.
 */
import { AllotError, SqlState } from '../../errors.js';
import type { Value } from '../types.js';
import { findComment } from './catalog-relations.js';
import { roleName } from './catalog-global.js';
import type { SystemContext } from './context.js';
import { PG_COLLATIONS } from './data/pg-misc.js';
import { PG_PROC_ARGUMENTS } from './data/pg-proc.js';
import { expressionText } from './defaults.js';
import { formatType } from './format-type.js';
import { fn, flag, num, text, type SystemFunction } from './function-types.js';
import { quoteIdent } from './names.js';
import { CatalogOid, Namespace } from './oids.js';
import { P, procByOid, type PgProcRow } from './proc-catalog.js';
import { regIn } from './reg.js';
import { relationByName, relationByOid } from './relations.js';
import { constraintDef, indexDef, ruleDef, viewDef } from './ruleutils.js';
import { functionIsVisible, relationIsVisible, typeIsVisible } from './visibility.js';

/** A relation named by oid, or by text read as regclass (unknown text raises 42P01). */
function relationArg(v: Value | undefined, ctx: SystemContext): number {
  return typeof v === 'string' && !/^\d+$/.test(v) ? regIn('regclass', v, ctx) : num(v, 'relation');
}

/** pg_get_expr(expr, relation[, pretty]): allot deparses the node trees its catalog holds. */
function getExpr(args: readonly Value[], ctx: SystemContext): Value {
  const rel = num(args[1], 'relation');
  if (rel !== 0 && relationByOid(ctx.times, rel) === undefined) return null;
  const bin = text(args[0], 'expression');
  const shown = expressionText(bin);
  if (shown === undefined) throw new AllotError(SqlState.featureNotSupported, 'pg_get_expr: allot shows only the expressions of its own catalog');
  return shown;
}

/** pg_get_viewdef(view[, pretty | wrap column]): a wrap column means pretty. */
function getViewdef(args: readonly Value[], ctx: SystemContext): Value {
  const pretty = typeof args[1] === 'number' || flag(args[1]);
  return viewDef(ctx, relationArg(args[0], ctx), pretty);
}

/** obj_description(oid[, catalog]): the catalog by name, as the SQL function looks it up in pg_catalog. */
function objDescription(args: readonly Value[], ctx: SystemContext): Value {
  const oid = num(args[0], 'object');
  if (args.length < 2) return findComment(ctx, oid, null, 0);
  const catalog = relationByName(ctx.times, Namespace.pgCatalog, text(args[1], 'catalog'));
  return catalog === undefined ? null : findComment(ctx, oid, catalog.oid, 0);
}

/** The arguments as print_function_arguments prints them: modes, names, types. */
function functionArguments(ctx: SystemContext, p: PgProcRow, tableArgs: boolean): string[] {
  const types = p[P.proallargtypes] ?? p[P.proargtypes];
  const modes = p[P.proargmodes];
  const names = p[P.proargnames];
  const out: string[] = [];
  types.forEach((type, i) => {
    const mode = modes?.[i] ?? 'i';
    if (tableArgs !== (mode === 't')) return;
    const prefix = { i: p[P.prokind] === 'p' ? 'IN ' : '', b: 'INOUT ', o: 'OUT ', v: 'VARIADIC ', t: '' }[mode] ?? '';
    const name = names?.[i];
    out.push(`${prefix}${name === undefined || name === null || name === '' ? '' : `${quoteIdent(name)} `}${formatType(ctx, Number(type), null)}`);
  });
  return out;
}

function functionResult(ctx: SystemContext, p: PgProcRow): string | null {
  if (p[P.prokind] === 'p') return null;
  if (p[P.proretset]) {
    const table = functionArguments(ctx, p, true);
    if (table.length > 0) return `TABLE(${table.join(', ')})`;
  }
  return `${p[P.proretset] ? 'SETOF ' : ''}${formatType(ctx, p[P.prorettype], null)}`;
}

/** A function by oid, or null for pg_get_function_* of an unknown one. */
function withProc(f: (p: PgProcRow, ctx: SystemContext) => Value): SystemFunction['call'] {
  return (args, ctx) => {
    const p = procByOid(num(args[0], 'function'));
    return p === undefined ? null : f(p, ctx);
  };
}

/** pg_get_serial_sequence(table, column): allot has no sequences; unknown names raise as in PostgreSQL. */
function serialSequence(args: readonly Value[], ctx: SystemContext): Value {
  const rel = relationByOid(ctx.times, regIn('regclass', text(args[0], 'table'), ctx));
  const column = text(args[1], 'column');
  if (rel !== undefined && !rel.columns.some((c) => c.name === column)) {
    throw new AllotError(SqlState.undefinedColumn, `column "${column}" of relation "${rel.name}" does not exist`);
  }
  return null;
}

export const DESCRIBE_FUNCTIONS: readonly SystemFunction[] = [
  fn(
    'format_type',
    [2, 2],
    'text',
    (args, ctx) => {
      if (args[0] === null || args[0] === undefined) return null;
      return formatType(ctx, num(args[0], 'type'), args[1] === null || args[1] === undefined ? null : num(args[1], 'typmod'));
    },
    false,
  ),
  fn('pg_get_expr', [2, 3], 'text', getExpr),
  fn('pg_get_indexdef', [1, 3], 'text', (args, ctx) => indexDef(ctx, num(args[0], 'index'), args.length > 1 ? num(args[1], 'column') : 0, flag(args[2]))),
  fn('pg_get_constraintdef', [1, 2], 'text', (args, ctx) => constraintDef(ctx, num(args[0], 'constraint'))),
  fn('pg_get_viewdef', [1, 2], 'text', getViewdef),
  fn('pg_get_ruledef', [1, 2], 'text', (args, ctx) => ruleDef(ctx, num(args[0], 'rule'), flag(args[1]))),
  fn('pg_get_triggerdef', [1, 2], 'text', () => null),
  fn('pg_get_partkeydef', [1, 1], 'text', () => null),
  fn('pg_get_statisticsobjdef_columns', [1, 1], 'text', () => null),
  fn('pg_get_serial_sequence', [2, 2], 'text', serialSequence),
  fn('pg_get_userbyid', [1, 1], 'name', (args, ctx) => {
    const oid = num(args[0], 'role');
    return roleName(ctx, oid) ?? `unknown (OID=${oid})`;
  }),
  fn('pg_table_is_visible', [1, 1], 'bool', (args, ctx) => relationIsVisible(ctx, num(args[0], 'relation'))),
  fn('pg_type_is_visible', [1, 1], 'bool', (args, ctx) => typeIsVisible(ctx, num(args[0], 'type'))),
  fn('pg_function_is_visible', [1, 1], 'bool', (args, ctx) => functionIsVisible(ctx, num(args[0], 'function'))),
  // Every collation allot has is in pg_catalog, always on the path.
  fn('pg_collation_is_visible', [1, 1], 'bool', (args) => (PG_COLLATIONS.some((c) => c[0] === num(args[0], 'collation')) ? true : null)),
  fn('obj_description', [1, 2], 'text', objDescription),
  fn('col_description', [2, 2], 'text', (args, ctx) => findComment(ctx, num(args[0], 'table'), CatalogOid.pgClass, num(args[1], 'column'))),
  fn('shobj_description', [2, 2], 'text', () => null),
  fn(
    'pg_get_function_identity_arguments',
    [1, 1],
    'text',
    withProc((p, ctx) => functionArguments(ctx, p, false).join(', ')),
  ),
  fn(
    'pg_get_function_arguments',
    [1, 1],
    'text',
    withProc((p, ctx) => PG_PROC_ARGUMENTS.find(([o]) => o === p[P.oid])?.[1] ?? functionArguments(ctx, p, false).join(', ')),
  ),
  fn(
    'pg_get_function_result',
    [1, 1],
    'text',
    withProc((p, ctx) => functionResult(ctx, p)),
  ),
  fn('pg_tablespace_location', [1, 1], 'text', () => ''),
];
