/**
 * SQL that writes a timestamptz in JavaScript's ISO form (UTC, milliseconds truncated, as a Date
 * gives them), so rows reach Node with the text they are shown in and no Date is made per value.
 */
export function isoTimeSql(column: string): string {
  return `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
}
