/**
 * The column defaults of allot's tables, as pg_attrdef would hold them: what allot fills in when
 * an INSERT leaves a column out (each table's insert, src/sql/tables/). `bin` is PostgreSQL 15's node
 * tree for the expression (locations -1), `text` what pg_get_expr shows for it. Generated ids
 * (ULIDs) have no SQL expression, so id has none; nor has outages.kind, which follows "end".
 */
import type { TimeOutput } from '../tables/columns.js';

export interface ColumnDefault {
  readonly bin: string;
  readonly text: string;
}

const int4Const = (bytes: string): string =>
  `{CONST :consttype 23 :consttypmod -1 :constcollid 0 :constlen 4 :constbyval true :constisnull false :location -1 :constvalue 4 [ ${bytes} ]}`;

/** int8(1): an integer literal cast to the bigint column. */
const INT8_ONE: ColumnDefault = {
  bin: `{FUNCEXPR :funcid 481 :funcresulttype 20 :funcretset false :funcvariadic false :funcformat 2 :funccollid 0 :inputcollid 0 :args (${int4Const('1 0 0 0 0 0 0 0')}) :location -1}`,
  text: '1',
};

const INT8_ZERO: ColumnDefault = {
  bin: `{FUNCEXPR :funcid 481 :funcresulttype 20 :funcretset false :funcvariadic false :funcformat 2 :funccollid 0 :inputcollid 0 :args (${int4Const('0 0 0 0 0 0 0 0')}) :location -1}`,
  text: '0',
};

const INTERVAL_ZERO: ColumnDefault = {
  bin: '{CONST :consttype 1186 :consttypmod -1 :constcollid 0 :constlen 16 :constbyval false :constisnull false :location -1 :constvalue 16 [ 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 ]}',
  text: "'00:00:00'::interval",
};

const EMPTY_TEXT_ARRAY: ColumnDefault = {
  bin: '{CONST :consttype 1009 :consttypmod -1 :constcollid 100 :constlen -1 :constbyval false :constisnull false :location -1 :constvalue 16 [ 64 0 0 0 0 0 0 0 0 0 0 0 25 0 0 0 ]}',
  text: "'{}'::text[]",
};

const ONLINE: ColumnDefault = {
  bin: '{CONST :consttype 25 :consttypmod -1 :constcollid 100 :constlen -1 :constbyval false :constisnull false :location -1 :constvalue 10 [ 40 0 0 0 111 110 108 105 110 101 ]}',
  text: "'online'::text",
};

const ID_ORDER: ColumnDefault = {
  bin: '{CONST :consttype 25 :consttypmod -1 :constcollid 100 :constlen -1 :constbyval false :constisnull false :location -1 :constvalue 12 [ 48 0 0 0 105 100 95 111 114 100 101 114 ]}',
  text: "'id_order'::text",
};

const FALSE: ColumnDefault = {
  bin: '{CONST :consttype 16 :consttypmod -1 :constcollid 0 :constlen 1 :constbyval true :constisnull false :location -1 :constvalue 1 [ 0 0 0 0 0 0 0 0 ]}',
  text: 'false',
};

const NOW_NODE =
  '{FUNCEXPR :funcid 1299 :funcresulttype 1184 :funcretset false :funcvariadic false :funcformat 0 :funccollid 0 :inputcollid 0 :args <> :location -1}';

const NOW: ColumnDefault = { bin: NOW_NODE, text: 'now()' };

/** now() in Unix milliseconds: (extract(epoch from now()) * 1000)::bigint. */
const NOW_MS: ColumnDefault = {
  bin:
    '{FUNCEXPR :funcid 1779 :funcresulttype 20 :funcretset false :funcvariadic false :funcformat 1 :funccollid 0 :inputcollid 0 :args ' +
    '({OPEXPR :opno 1760 :opfuncid 1726 :opresulttype 1700 :opretset false :opcollid 0 :inputcollid 0 :args ' +
    '({FUNCEXPR :funcid 6203 :funcresulttype 1700 :funcretset false :funcvariadic false :funcformat 3 :funccollid 0 :inputcollid 100 :args ' +
    '({CONST :consttype 25 :consttypmod -1 :constcollid 100 :constlen -1 :constbyval false :constisnull false :location -1 :constvalue 9 [ 36 0 0 0 101 112 111 99 104 ]} ' +
    `${NOW_NODE}) :location -1} ` +
    `{FUNCEXPR :funcid 1740 :funcresulttype 1700 :funcretset false :funcvariadic false :funcformat 2 :funccollid 0 :inputcollid 0 :args (${int4Const('-24 3 0 0 0 0 0 0')}) :location -1}) :location -1}) :location -1}`,
  text: '((EXTRACT(epoch FROM now()) * (1000)::numeric))::bigint',
};

/** The default of `table.column` in a session with this time output, if allot has one. */
export function columnDefault(table: string, column: string, times: TimeOutput): ColumnDefault | undefined {
  if (column === 'capabilities') return EMPTY_TEXT_ARRAY;
  switch (`${table}.${column}`) {
    case 'resources.capacity':
      return INT8_ONE;
    case 'resources.buffer_before':
    case 'resources.buffer_after':
      return times === 'ms' ? INT8_ZERO : INTERVAL_ZERO;
    case 'resources.status':
      return ONLINE;
    case 'resources.pool_strategy':
      return ID_ORDER;
    case 'rules.blocking':
      return FALSE;
    case 'outages.declared_at':
      return times === 'ms' ? NOW_MS : NOW;
    default:
      return undefined;
  }
}

/** pg_get_expr of the node trees the catalog holds, beyond the defaults: the time_stamp domain's. */
const OTHER_EXPRESSIONS: ReadonlyMap<string, string> = new Map([['{SQLVALUEFUNCTION :op 4 :type 1184 :typmod 2 :location 105}', 'CURRENT_TIMESTAMP(2)']]);

/** What pg_get_expr shows for a node tree of the catalog, or undefined for one it does not hold. */
export function expressionText(bin: string): string | undefined {
  for (const d of [INT8_ONE, INT8_ZERO, INTERVAL_ZERO, EMPTY_TEXT_ARRAY, ONLINE, ID_ORDER, FALSE, NOW, NOW_MS]) if (d.bin === bin) return d.text;
  return OTHER_EXPRESSIONS.get(bin);
}
