/**
 * SQLSTATEs the catalog raises that src/errors.ts's SqlState does not name yet (named as in
 * PostgreSQL's errcodes.txt). They belong in SqlState; they are here because this folder may not
 * change it.
 */
export const CatalogState = {
  invalidSchemaName: '3F000',
  invalidCatalogName: '3D000',
  ambiguousFunction: '42725',
  invalidName: '42602',
  crossDatabaseReference: '0A000',
} as const;
