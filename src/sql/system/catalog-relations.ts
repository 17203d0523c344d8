/**
 * The catalogs of relations: pg_class, pg_attribute, pg_attrdef, pg_index, pg_constraint,
 * pg_rewrite, pg_depend and pg_description, built on demand from relations.ts. Rows follow
 * PostgreSQL 15's column order; what PostgreSQL would store for the CREATE TABLEs of
 * test/sql/system/fixtures/allot-schema.sql is what these show.
 */
import type { Value } from '../types.js';
import type { SystemContext } from './context.js';
import { PG_OTHER_COMMENTS } from './data/pg-misc.js';
import { PG_PROC_COMMENTS } from './data/pg-proc.js';
import { PG_TYPE_COMMENTS } from './data/pg-type.js';
import { withOwner } from './names.js';
import { BOOTSTRAP_ROLE, BTREE_AM, CatalogOid, DEFAULT_TABLESPACE, FROZEN_XID, HEAP_AM, Namespace, TEXT_BTREE_OPCLASS, derivedOid } from './oids.js';
import { isAllot, relationByOid, relations, type CatalogColumn, type CatalogRelation } from './relations.js';
import { T, typeByOid } from './type-catalog.js';

/** Catalogs PostgreSQL maps rather than files by relfilenode: their relfilenode is 0. */
const MAPPED: ReadonlySet<number> = new Set([CatalogOid.pgType, CatalogOid.pgAttribute, CatalogOid.pgProc, CatalogOid.pgClass]);
const PG_GLOBAL_TABLESPACE = DEFAULT_TABLESPACE + 1;

export function pgClassRows(ctx: SystemContext): Value[][] {
  return relations(ctx.times).map((r) => pgClassRow(r, ctx.user));
}

function pgClassRow(r: CatalogRelation, user: string): Value[] {
  const table = r.kind === 'r';
  const stored = r.kind !== 'v';
  const relfilenode = !stored || r.shared || MAPPED.has(r.oid) ? 0 : r.oid;
  return [
    r.oid,
    r.name,
    r.namespace,
    r.rowType,
    0,
    BOOTSTRAP_ROLE,
    table ? HEAP_AM : r.kind === 'i' ? BTREE_AM : 0,
    relfilenode,
    r.shared ? PG_GLOBAL_TABLESPACE : 0,
    0, // relpages: allot keeps no pages
    r.kind === 'i' ? 0 : -1, // reltuples: never analyzed
    0,
    0,
    table,
    r.shared,
    'p',
    r.kind,
    r.columns.length,
    0,
    r.hasRules,
    false,
    false,
    false,
    false,
    true,
    table && !r.system ? 'd' : 'n',
    false,
    0,
    table ? FROZEN_XID : 0,
    table ? 1 : 0,
    withOwner(r.acl, user),
    null,
    null,
  ];
}

/** The system columns of every table, as PostgreSQL 15 numbers them: [name, attnum, type]. */
const SYSTEM_COLUMNS: readonly [string, number, number][] = [
  ['tableoid', -6, 26],
  ['cmax', -5, 29],
  ['xmax', -4, 28],
  ['cmin', -3, 29],
  ['xmin', -2, 28],
  ['ctid', -1, 27],
];

export function pgAttributeRows(ctx: SystemContext): Value[][] {
  const out: Value[][] = [];
  for (const r of relations(ctx.times)) {
    if (r.kind === 'r') {
      for (const [name, attnum, type] of SYSTEM_COLUMNS)
        out.push(attributeRow(r.oid, { name, typeOid: type, notNull: true, ndims: 0, collation: 0 }, attnum, 0));
    }
    r.columns.forEach((c, i) => {
      out.push(attributeRow(r.oid, c, i + 1, -1));
    });
  }
  return out;
}

function attributeRow(rel: number, c: CatalogColumn, attnum: number, statTarget: number): Value[] {
  const t = typeByOid(c.typeOid);
  return [
    rel,
    c.name,
    c.typeOid,
    statTarget,
    t?.[T.typlen] ?? -1,
    attnum,
    c.ndims,
    -1,
    -1,
    t?.[T.typbyval] ?? false,
    t?.[T.typalign] ?? 'i',
    t?.[T.typstorage] ?? 'x',
    '',
    c.notNull,
    c.default !== undefined,
    false,
    '',
    '',
    false,
    true,
    0,
    c.collation,
    null,
    null,
    null,
    null,
  ];
}

export function pgAttrdefRows(ctx: SystemContext): Value[][] {
  return relations(ctx.times).flatMap((r) => r.columns.flatMap((c, i) => (c.default === undefined ? [] : [[c.default.oid, r.oid, i + 1, c.default.bin]])));
}

export function pgIndexRows(ctx: SystemContext): Value[][] {
  return relations(ctx.times).flatMap((r) => {
    if (r.kind !== 'i' || r.indexOf === undefined) return [];
    const key = relationByOid(ctx.times, r.indexOf)?.primaryKey;
    const collation = String(r.columns[0]?.collation ?? 0);
    return [
      [
        r.oid,
        r.indexOf,
        1,
        1,
        true,
        false,
        true,
        false,
        true,
        false,
        true,
        false,
        true,
        true,
        false,
        [String(key?.attnum ?? 1)],
        [collation],
        [String(TEXT_BTREE_OPCLASS)],
        ['0'],
        null,
        null,
      ],
    ];
  });
}

export function pgConstraintRows(ctx: SystemContext): Value[][] {
  return relations(ctx.times).flatMap((r) => {
    const pk = r.primaryKey;
    if (pk === undefined) return [];
    return [
      [
        pk.constraint,
        pk.name,
        r.namespace,
        'p',
        false,
        false,
        true,
        r.oid,
        0,
        pk.index,
        0,
        0,
        ' ',
        ' ',
        ' ',
        true,
        0,
        true,
        [String(pk.attnum)],
        null,
        null,
        null,
        null,
        null,
        null,
        null,
      ],
    ];
  });
}

/**
 * Each view's ON SELECT rule. ev_action stands for the Query tree of the view's definition
 * (pg_get_viewdef shows it); allot keeps no plan trees.
 */
export function pgRewriteRows(ctx: SystemContext): Value[][] {
  return relations(ctx.times).flatMap((r) =>
    r.kind === 'v' && isAllot(r)
      ? [
          [
            derivedOid.viewRule(r.oid),
            '_RETURN',
            r.oid,
            '1',
            'O',
            true,
            '<>',
            `({QUERY :commandType 1 :querySource 0 :canSetTag true :resultRelation 0 :view ${r.name}})`,
          ],
        ]
      : [],
  );
}

/** The dependencies PostgreSQL records for allot's objects (none on built-in, pinned ones). */
export function pgDependRows(ctx: SystemContext): Value[][] {
  const out: Value[][] = [];
  const dep = (classid: number, objid: number, refclassid: number, refobjid: number, refobjsubid: number, deptype: string): void => {
    out.push([classid, objid, 0, refclassid, refobjid, refobjsubid, deptype]);
  };
  for (const r of relations(ctx.times)) {
    if (!isAllot(r) || r.kind === 'i') continue;
    dep(CatalogOid.pgClass, r.oid, CatalogOid.pgNamespace, Namespace.public, 0, 'n');
    dep(CatalogOid.pgType, derivedOid.arrayType(r.oid), CatalogOid.pgType, r.rowType, 0, 'i');
    dep(CatalogOid.pgType, r.rowType, CatalogOid.pgClass, r.oid, 0, 'i');
    r.columns.forEach((c, i) => {
      if (c.default !== undefined) dep(CatalogOid.pgAttrdef, c.default.oid, CatalogOid.pgClass, r.oid, i + 1, 'a');
    });
    if (r.primaryKey !== undefined) {
      dep(CatalogOid.pgClass, r.primaryKey.index, CatalogOid.pgConstraint, r.primaryKey.constraint, 0, 'i');
      dep(CatalogOid.pgConstraint, r.primaryKey.constraint, CatalogOid.pgClass, r.oid, r.primaryKey.attnum, 'a');
    }
    if (r.kind === 'v') {
      dep(CatalogOid.pgRewrite, derivedOid.viewRule(r.oid), CatalogOid.pgClass, r.oid, 0, 'i');
      dep(CatalogOid.pgRewrite, derivedOid.viewRule(r.oid), CatalogOid.pgClass, r.oid, 0, 'n');
    }
  }
  return out;
}

/** Comments: allot's tables and columns, and PostgreSQL's on built-in types, functions, schemas, …. */
export function pgDescriptionRows(ctx: SystemContext): Value[][] {
  const out: Value[][] = [];
  for (const r of relations(ctx.times)) {
    if (r.comment !== undefined) out.push([r.oid, CatalogOid.pgClass, 0, r.comment]);
    r.columns.forEach((c, i) => {
      if (c.comment !== undefined) out.push([r.oid, CatalogOid.pgClass, i + 1, c.comment]);
    });
  }
  for (const [oid, text] of PG_TYPE_COMMENTS) out.push([oid, CatalogOid.pgType, 0, text]);
  for (const [oid, text] of PG_PROC_COMMENTS) out.push([oid, CatalogOid.pgProc, 0, text]);
  for (const [oid, classoid, text] of PG_OTHER_COMMENTS) out.push([oid, classoid, 0, text]);
  return out;
}

let staticComments: ReadonlyMap<string, string> | undefined;

/** The classes built-in comments are on, for obj_description(oid) without a catalog. */
const COMMENTED_CLASSES = [
  CatalogOid.pgClass,
  CatalogOid.pgType,
  CatalogOid.pgProc,
  CatalogOid.pgNamespace,
  CatalogOid.pgAm,
  CatalogOid.pgLanguage,
  CatalogOid.pgCollation,
];

/** A comment by object, class (null: any) and sub-id: obj_description, col_description. */
export function findComment(ctx: SystemContext, objoid: number, classoid: number | null, objsubid: number): string | null {
  if (classoid === null || classoid === CatalogOid.pgClass) {
    const r = relationByOid(ctx.times, objoid);
    const c = r === undefined ? undefined : objsubid === 0 ? r.comment : r.columns[objsubid - 1]?.comment;
    if (c !== undefined) return c;
  }
  if (objsubid !== 0) return null;
  staticComments ??= new Map(
    pgDescriptionRows(ctx)
      .filter((row) => row[1] !== CatalogOid.pgClass)
      .map((row) => [`${String(row[1])}/${String(row[0])}`, row[3] as string]),
  );
  for (const cls of classoid === null ? COMMENTED_CLASSES : [classoid]) {
    const c = staticComments.get(`${cls}/${objoid}`);
    if (c !== undefined) return c;
  }
  return null;
}
