/**
 * format_type(type, typmod): a type's SQL name as PostgreSQL 15 prints it (format_type.c's
 * format_type_extended with the SQL function's flags), with the typmod rendered by the type's
 * typmodout function (varchartypmodout, numerictypmodout, …).
 */
import type { SystemContext } from './context.js';
import { namespaceName, quoteQualified } from './names.js';
import { T, isTrueArray, typeByOid } from './type-catalog.js';
import { typeIsVisible } from './visibility.js';

/** SQL-standard names, and whether the name takes the typmod (or shows it only when given). */
const SPECIAL: ReadonlyMap<number, { plain: string; withTypmod: string; bareWhenMinusOne?: boolean }> = new Map([
  [1560, { plain: 'bit', withTypmod: 'bit', bareWhenMinusOne: true }],
  [16, { plain: 'boolean', withTypmod: 'boolean' }],
  [1042, { plain: 'character', withTypmod: 'character', bareWhenMinusOne: true }],
  [700, { plain: 'real', withTypmod: 'real' }],
  [701, { plain: 'double precision', withTypmod: 'double precision' }],
  [21, { plain: 'smallint', withTypmod: 'smallint' }],
  [23, { plain: 'integer', withTypmod: 'integer' }],
  [20, { plain: 'bigint', withTypmod: 'bigint' }],
  [1700, { plain: 'numeric', withTypmod: 'numeric' }],
  [1186, { plain: 'interval', withTypmod: 'interval' }],
  [1083, { plain: 'time without time zone', withTypmod: 'time' }],
  [1266, { plain: 'time with time zone', withTypmod: 'time' }],
  [1114, { plain: 'timestamp without time zone', withTypmod: 'timestamp' }],
  [1184, { plain: 'timestamp with time zone', withTypmod: 'timestamp' }],
  [1562, { plain: 'bit varying', withTypmod: 'bit varying' }],
  [1043, { plain: 'character varying', withTypmod: 'character varying' }],
]);

/** The types whose typmod format_type prints without the type's typmodout (no such function). */
const NO_TYPMOD_NAME = new Set([16, 700, 701, 21, 23, 20]);

/**
 * format_type(oid, typmod): typmod null is "not given" (the SQL function's NULL), which differs
 * from -1 for bit and character. An unknown type is `???`, oid 0 is `-`.
 */
export function formatType(ctx: SystemContext, oid: number, typmod: number | null): string {
  if (oid === 0) return '-';
  let t = typeByOid(oid);
  if (t === undefined) return '???';
  let isArray = false;
  if (isTrueArray(t) && t[T.typstorage] !== 'p') {
    const elem = typeByOid(t[T.typelem]);
    if (elem === undefined) return '???[]';
    t = elem;
    isArray = true;
  }
  const typeOid = t[T.oid];
  const withTypmod = typmod !== null && typmod >= 0;
  let name: string | undefined;
  const special = SPECIAL.get(typeOid);
  if (special !== undefined) {
    if (withTypmod && !NO_TYPMOD_NAME.has(typeOid)) name = special.withTypmod + typmodText(t[T.typmodout], typmod);
    else if (!(typmod !== null && special.bareWhenMinusOne === true)) name = special.plain;
  }
  if (name === undefined) {
    const visible = typeIsVisible(ctx, typeOid) === true;
    name = quoteQualified(visible ? null : (namespaceName(t[T.typnamespace]) ?? null), t[T.typname]);
    if (withTypmod) name += typmodText(t[T.typmodout], typmod);
  }
  return isArray ? `${name}[]` : name;
}

/** What a typmodout function returns for a typmod ≥ 0; a type without one shows `(typmod)`. */
function typmodText(typmodout: number, typmod: number): string {
  switch (typmodout) {
    case 0:
      return `(${typmod})`;
    case 2914: // bpchartypmodout
    case 2916: // varchartypmodout
      return typmod > 4 ? `(${typmod - 4})` : '';
    case 2918: // numerictypmodout
      return `(${((typmod - 4) >> 16) & 0xffff},${(((typmod - 4) & 0x7ff) ^ 1024) - 1024})`;
    case 2906: // timestamptypmodout
    case 2910: // timetypmodout
      return `(${typmod}) without time zone`;
    case 2908: // timestamptztypmodout
    case 2912: // timetztypmodout
      return `(${typmod}) with time zone`;
    case 2904: // intervaltypmodout
      return intervalTypmod(typmod);
    case 2920: // bittypmodout
    case 2921: // varbittypmodout
      return `(${typmod})`;
    default:
      return '';
  }
}

/** Interval field masks (datetime.h: MONTH 1, YEAR 2, DAY 3, HOUR 10, MINUTE 11, SECOND 12). */
const INTERVAL_FIELDS: ReadonlyMap<number, string> = new Map([
  [1 << 2, ' year'],
  [1 << 1, ' month'],
  [1 << 3, ' day'],
  [1 << 10, ' hour'],
  [1 << 11, ' minute'],
  [1 << 12, ' second'],
  [(1 << 2) | (1 << 1), ' year to month'],
  [(1 << 3) | (1 << 10), ' day to hour'],
  [(1 << 3) | (1 << 10) | (1 << 11), ' day to minute'],
  [(1 << 3) | (1 << 10) | (1 << 11) | (1 << 12), ' day to second'],
  [(1 << 10) | (1 << 11), ' hour to minute'],
  [(1 << 10) | (1 << 11) | (1 << 12), ' hour to second'],
  [(1 << 11) | (1 << 12), ' minute to second'],
  [0x7fff, ''],
]);

/** intervaltypmodout: the fields, then the seconds' precision unless it is the full one. */
function intervalTypmod(typmod: number): string {
  const fields = INTERVAL_FIELDS.get((typmod >> 16) & 0x7fff) ?? '';
  const precision = typmod & 0xffff;
  return precision === 0xffff ? fields : `${fields}(${precision})`;
}
