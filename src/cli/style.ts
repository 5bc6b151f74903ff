/** The few colours cos-db's tables and verdicts use. */
export type Style = Record<
  'bold' | 'dim' | 'red' | 'green' | 'yellow' | 'cyan',
  (text: string) => string
>;

/** SGR open and close codes of each. */
const CODES: Record<keyof Style, [number, number]> = {
  bold: [1, 22],
  dim: [2, 22],
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  cyan: [36, 39],
};

/**
 * ANSI styles, or the text as it is when colour is off. Written here rather than loaded from
 * chalk: six codes are all cos-db uses, and every command started measurably sooner without it
 * (docs/performance.md). A close code inside the text re-opens the style after it, so a styled
 * part within styled text does not end the outer style early.
 */
export function makeStyle(enabled: boolean): Style {
  const entries = Object.entries(CODES).map(([name, [open, close]]) => {
    const o = `\x1b[${open}m`;
    const c = `\x1b[${close}m`;
    return [
      name,
      enabled
        ? (text: string) => `${o}${text.replaceAll(c, `${c}${o}`)}${c}`
        : (text: string) => text,
    ];
  });
  return Object.fromEntries(entries) as Style;
}
