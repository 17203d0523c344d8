/**
 * has_*_privilege and pg_has_role, as PostgreSQL 15 answers them for the session user, who is
 * the superuser (every privilege). Other roles have what PUBLIC has by default: SELECT on
 * catalogs, USAGE on schemas and types, CONNECT and TEMPORARY on databases, EXECUTE on functions.
 * Names that do not exist raise PostgreSQL's errors; oids that do not exist give NULL.
 */
import { AllotError, SqlState } from '../../errors.js';
import type { Value } from '../types.js';
import { roleOid } from './catalog-global.js';
import type { SystemContext } from './context.js';
import { PG_TABLESPACES } from './data/pg-misc.js';
import { fn, text, type SystemFunction } from './function-types.js';
import { namespaceName, namespaceOid, splitQualifiedName } from './names.js';
import { BOOTSTRAP_ROLE } from './oids.js';
import { P, procByOid, procsByName } from './proc-catalog.js';
import { regIn, regInOrNull } from './reg.js';
import { relationByOid } from './relations.js';
import { typeByOid } from './type-catalog.js';

/** PUBLIC's pseudo-role in privilege checks ('public' as a user name). */
const PUBLIC = 0;

interface Kind {
  readonly privileges: readonly string[];
  /** Whether the object exists (null: an oid that names nothing). */
  exists(v: Value, ctx: SystemContext): boolean;
  /** What PUBLIC holds on it. */
  readonly publicHas: (privilege: string, v: Value, ctx: SystemContext) => boolean;
}

/** The privileges asked for, upper-case without WITH GRANT OPTION; unknown ones raise 22023. */
function privileges(spec: string, allowed: readonly string[]): string[] {
  return spec.split(',').map((p) => {
    const name = p
      .trim()
      .toUpperCase()
      .replace(/\s+WITH\s+(GRANT|ADMIN)\s+OPTION$/, '');
    if (!allowed.includes(name)) throw new AllotError(SqlState.invalidParameterValue, `unrecognized privilege type: "${p.trim()}"`);
    return name;
  });
}

function userArg(v: Value, ctx: SystemContext): number {
  if (typeof v === 'number') return v;
  const name = text(v, 'role');
  if (name === 'public') return PUBLIC;
  const oid = roleOid(ctx, name);
  if (oid === undefined) throw new AllotError(SqlState.undefinedObject, `role "${name}" does not exist`);
  return oid;
}

/** A has_*_privilege function: ([user,] object, privilege). */
function privilegeFunction(name: string, kind: Kind): SystemFunction {
  return fn(name, [2, 3], 'bool', (args, ctx) => {
    const [user, object, spec] = args.length === 3 ? args : [ctx.user, args[0], args[1]];
    const role = userArg(user ?? null, ctx);
    if (!kind.exists(object ?? null, ctx)) return null;
    const asked = privileges(text(spec ?? null, 'privilege'), kind.privileges);
    if (role === BOOTSTRAP_ROLE) return true;
    return asked.some((p) => kind.publicHas(p, object ?? null, ctx));
  });
}

/** Whether an object named by oid exists; one named by name does, or resolving the name throws. */
function exists(v: Value, byOid: (oid: number) => unknown, resolve: (name: Value) => unknown): boolean {
  if (typeof v === 'number') return byOid(v) !== undefined;
  resolve(v);
  return true;
}

const relationExists = (v: Value, ctx: SystemContext): boolean =>
  exists(
    v,
    (oid) => relationByOid(ctx.times, oid),
    (name) => regIn('regclass', text(name, 'table'), ctx),
  );

/** PUBLIC may read the catalogs (their relacl grants =r). */
const catalogSelect = (p: string, v: Value, ctx: SystemContext): boolean => {
  const oid = typeof v === 'number' ? v : regIn('regclass', text(v, 'table'), ctx);
  return p === 'SELECT' && relationByOid(ctx.times, oid)?.system === true;
};

const TABLE: Kind = {
  privileges: ['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER'],
  exists: relationExists,
  publicHas: catalogSelect,
};
const ANY_COLUMN: Kind = { privileges: ['SELECT', 'INSERT', 'UPDATE', 'REFERENCES'], exists: relationExists, publicHas: catalogSelect };

const SCHEMA: Kind = {
  privileges: ['CREATE', 'USAGE'],
  exists: (v) => {
    if (typeof v === 'number') return namespaceName(v) !== undefined;
    const name = text(v, 'schema');
    if (namespaceOid(name) === undefined) throw new AllotError(SqlState.invalidSchemaName, `schema "${name}" does not exist`);
    return true;
  },
  publicHas: (p) => p === 'USAGE',
};

const DATABASE: Kind = {
  privileges: ['CREATE', 'CONNECT', 'TEMPORARY', 'TEMP'],
  exists: (v, ctx) => {
    if (typeof v === 'number') return true; // oids of databases come from pg_database
    const name = text(v, 'database');
    if (!ctx.databases.includes(name)) throw new AllotError(SqlState.invalidCatalogName, `database "${name}" does not exist`);
    return true;
  },
  publicHas: (p) => p !== 'CREATE',
};

const FUNCTION: Kind = {
  privileges: ['EXECUTE'],
  exists: (v, ctx) => exists(v, procByOid, (name) => procedureOid(text(name, 'function'), ctx)),
  publicHas: () => true,
};

const TYPE: Kind = {
  privileges: ['USAGE'],
  exists: (v, ctx) => exists(v, typeByOid, (name) => regIn('regtype', text(name, 'type'), ctx)),
  publicHas: () => true,
};

const TABLESPACE: Kind = {
  privileges: ['CREATE'],
  exists: (v) => {
    if (typeof v === 'number') return PG_TABLESPACES.some(([oid]) => oid === v);
    const name = text(v, 'tablespace');
    if (!PG_TABLESPACES.some(([, n]) => n === name)) throw new AllotError(SqlState.undefinedObject, `tablespace "${name}" does not exist`);
    return true;
  },
  publicHas: () => false,
};

/** allot has no sequences: a relation named here is never one. */
const SEQUENCE: Kind = {
  privileges: ['USAGE', 'SELECT', 'UPDATE'],
  exists: (v, ctx) => {
    const oid = typeof v === 'number' ? v : regIn('regclass', text(v, 'sequence'), ctx);
    const rel = relationByOid(ctx.times, oid);
    if (rel === undefined) return false;
    throw new AllotError(SqlState.wrongObjectType, `"${rel.name}" is not a sequence`);
  },
  publicHas: () => false,
};

/** `name(type, …)` as regprocedure reads it: the function with exactly those argument types. */
function procedureOid(spec: string, ctx: SystemContext): number {
  const m = /^(.*?)\s*\((.*)\)\s*$/s.exec(spec);
  if (m === null) throw new AllotError(SqlState.syntaxError, 'expected a left parenthesis');
  const names = splitQualifiedName(m[1] ?? '');
  const argText = (m[2] ?? '').trim();
  const argTypes = argText === '' ? [] : argText.split(',').map((a) => String(regInOrNull('regtype', a, ctx) ?? 0));
  const found = procsByName(names[names.length - 1] ?? '').find((p) => p[P.proargtypes].join(' ') === argTypes.join(' '));
  if (found === undefined) throw new AllotError(SqlState.undefinedFunction, `function "${spec}" does not exist`);
  return found[P.oid];
}

/** pg_has_role([user,] role, MEMBER | USAGE): the superuser is a member of every role. */
function pgHasRole(args: readonly Value[], ctx: SystemContext): Value {
  const [user, role, spec] = args.length === 3 ? args : [ctx.user, args[0], args[1]];
  const member = userArg(user ?? null, ctx);
  const target = typeof role === 'number' ? role : userArg(role ?? null, ctx);
  const asked = privileges(text(spec ?? null, 'privilege'), ['MEMBER', 'USAGE', 'SET']);
  return asked.length > 0 && (member === BOOTSTRAP_ROLE || member === target);
}

/** has_column_privilege([user,] table, column, privilege): a column by name or number. */
function columnPrivilege(args: readonly Value[], ctx: SystemContext): Value {
  const [user, table, column, spec] = args.length === 4 ? args : [ctx.user, args[0], args[1], args[2]];
  const role = userArg(user ?? null, ctx);
  if (!relationExists(table ?? null, ctx)) return null;
  const rel = relationByOid(ctx.times, typeof table === 'number' ? table : regIn('regclass', text(table ?? null, 'table'), ctx));
  if (rel === undefined) return null;
  if (typeof column === 'number') {
    if (column < 1 || column > rel.columns.length) return null;
  } else if (!rel.columns.some((c) => c.name === text(column ?? null, 'column'))) {
    throw new AllotError(SqlState.undefinedColumn, `column "${String(column)}" of relation "${rel.name}" does not exist`);
  }
  const asked = privileges(text(spec ?? null, 'privilege'), ANY_COLUMN.privileges);
  return role === BOOTSTRAP_ROLE || asked.some((p) => catalogSelect(p, rel.oid, ctx));
}

export const PRIVILEGE_FUNCTIONS: readonly SystemFunction[] = [
  privilegeFunction('has_table_privilege', TABLE),
  privilegeFunction('has_any_column_privilege', ANY_COLUMN),
  privilegeFunction('has_schema_privilege', SCHEMA),
  privilegeFunction('has_database_privilege', DATABASE),
  privilegeFunction('has_function_privilege', FUNCTION),
  privilegeFunction('has_type_privilege', TYPE),
  privilegeFunction('has_tablespace_privilege', TABLESPACE),
  privilegeFunction('has_sequence_privilege', SEQUENCE),
  fn('has_column_privilege', [3, 4], 'bool', columnPrivilege),
  fn('pg_has_role', [2, 3], 'bool', pgHasRole),
];
