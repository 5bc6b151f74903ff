/** A PostgreSQL identifier, double-quoted with its quotes doubled: the one way cos-db quotes names. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
