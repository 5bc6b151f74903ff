/**
 * Parses the subset of dotenv syntax people actually write: KEY=value, optional `export `,
 * single or double quotes (double quotes understand \n), `#` comments. Returns the pairs and
 * the lines it could not read, so the caller can report them with the file's name.
 */
export function parseDotenv(text: string): { values: Record<string, string>; bad: number[] } {
  const values: Record<string, string> = {};
  const bad: number[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!match) {
      bad.push(index + 1);
      return;
    }
    const key = match[1] as string;
    let value = match[2] as string;
    const quoted = /^(["'])(.*)\1\s*(?:#.*)?$/.exec(value);
    if (quoted) {
      value = quoted[2] as string;
      if (quoted[1] === '"') value = value.replace(/\\n/g, '\n').replace(/\\"/g, '"');
    } else {
      value = value.replace(/\s+#.*$/, '');
    }
    values[key] = value;
  });
  return { values, bad };
}
