/**
 * The server-wide catalogs: databases, roles, tablespaces, settings and the session's activity.
 * The session user is the bootstrap superuser (oid 10); the predefined roles are PostgreSQL's.
 */
import { DEFAULT_SETTINGS } from '../settings.js';
import type { Value } from '../types.js';
import type { SystemContext } from './context.js';
import { PG_PREDEFINED_ROLES, PG_SETTINGS_META, PG_TABLESPACES } from './data/pg-misc.js';
import { BOOTSTRAP_ROLE, DEFAULT_TABLESPACE, FROZEN_XID, UTF8_ENCODING, databaseOid } from './oids.js';

/** What initdb --locale=C.UTF-8 gives every database; allot compares text by code point. */
const LOCALE = 'C.UTF-8';

export function pgDatabaseRows(ctx: SystemContext): Value[][] {
  return ctx.databases.map((name) => [
    databaseOid(name),
    name,
    BOOTSTRAP_ROLE,
    UTF8_ENCODING,
    'c',
    false,
    true,
    -1,
    FROZEN_XID,
    1,
    DEFAULT_TABLESPACE,
    LOCALE,
    LOCALE,
    null,
    null,
    null,
  ]);
}

/** pg_authid: the session user as superuser, then the predefined roles. */
export function pgAuthidRows(ctx: SystemContext): Value[][] {
  const user: Value[] = [BOOTSTRAP_ROLE, ctx.user, true, true, true, true, true, true, true, -1, null, null];
  return [user, ...PG_PREDEFINED_ROLES.map((r) => [...r])];
}

/** Role name by oid. */
export function roleName(ctx: SystemContext, oid: number): string | undefined {
  if (oid === BOOTSTRAP_ROLE) return ctx.user;
  return PG_PREDEFINED_ROLES.find((r) => r[0] === oid)?.[1];
}

/** Role oid by name. */
export function roleOid(ctx: SystemContext, name: string): number | undefined {
  if (name === ctx.user) return BOOTSTRAP_ROLE;
  return PG_PREDEFINED_ROLES.find((r) => r[1] === name)?.[0];
}

/** pg_roles: pg_authid with the password hidden (its view's column order). */
export function pgRolesRows(ctx: SystemContext): Value[][] {
  return pgAuthidRows(ctx).map(([oid, name, sup, inherit, createrole, createdb, login, repl, bypass, connlimit, , validUntil]) => [
    name ?? null,
    sup ?? null,
    inherit ?? null,
    createrole ?? null,
    createdb ?? null,
    login ?? null,
    repl ?? null,
    connlimit ?? null,
    '********',
    validUntil ?? null,
    bypass ?? null,
    null,
    oid ?? null,
  ]);
}

/** pg_user: the roles that can log in. */
export function pgUserRows(ctx: SystemContext): Value[][] {
  return pgAuthidRows(ctx)
    .filter((r) => r[6] === true)
    .map(([oid, name, sup, , , createdb, , repl, bypass, , , validUntil]) => [
      name ?? null,
      oid ?? null,
      createdb ?? null,
      sup ?? null,
      repl ?? null,
      bypass ?? null,
      '********',
      validUntil ?? null,
      null,
    ]);
}

export function pgTablespaceRows(): Value[][] {
  return PG_TABLESPACES.map(([oid, name]) => [oid, name, BOOTSTRAP_ROLE, null, null]);
}

/**
 * pg_settings: the parameters allot knows that PostgreSQL shows, with the session's values.
 * A value other than allot's default was set in the session.
 */
export function pgSettingsRows(ctx: SystemContext): Value[][] {
  return PG_SETTINGS_META.map(([name, unit, category, shortDesc, extraDesc, context, vartype, min, max, enumvals]) => {
    const key = name.toLowerCase();
    const boot = DEFAULT_SETTINGS.get(key) ?? null;
    const value = ctx.setting(key) ?? boot;
    const source = value === boot ? 'default' : 'session';
    return [
      name,
      value,
      unit,
      category,
      shortDesc,
      extraDesc,
      context,
      vartype,
      source,
      min,
      max,
      enumvals === null ? null : [...enumvals],
      boot,
      boot,
      null,
      null,
      false,
    ];
  });
}

/** pg_stat_activity: the session's own backend (allot shows no other session's queries). */
export function pgStatActivityRows(ctx: SystemContext): Value[][] {
  return [
    [
      databaseOid(ctx.database),
      ctx.database,
      ctx.backendPid ?? null,
      null,
      BOOTSTRAP_ROLE,
      ctx.user,
      ctx.setting('application_name') ?? '',
      null,
      null,
      null,
      ctx.sessionStartedAtMs ?? null,
      null,
      null,
      null,
      null,
      null,
      'active',
      null,
      null,
      null,
      '',
      'client backend',
    ],
  ];
}
