import { isInterrupted } from '../interrupt.js';
import { makeStyle, type Style } from './style.js';
import type CliTable from 'cli-table3';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export type OutputOptions = {
  json: boolean;
  quiet: boolean;
  color: boolean;
  verbose: boolean;
};

/** A spinner line on a terminal; `shown` is false (and update does nothing) anywhere else. */
export type Progress = { update(text: string): void; stop(): void; shown: boolean };

type Stream = { write(chunk: string): boolean; isTTY?: boolean };

// Control characters but the newline, DEL and C1; colour sequences (SGR, as style.ts writes them) kept.
// eslint-disable-next-line no-control-regex -- control characters are exactly what is matched
const CONTROL = /\x1b\[[0-9;]*m|[\x00-\x09\x0b-\x1f\x7f-\x9f]/g;

/**
 * Text for a terminal: control characters that came with the data (an event id or type holding
 * ESC, CR or a bell) shown escaped (\x1b, \r), so they cannot move the cursor or rewrite what is
 * shown. JSON output is never touched.
 */
export function visible(text: string): string {
  return text.replace(CONTROL, (c) =>
    c.length > 1
      ? c
      : c === '\t'
        ? '\\t'
        : c === '\r'
          ? '\\r'
          : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
}

/**
 * The one place where human and machine output part ways. With --json, stdout carries exactly
 * one JSON document; notices, warnings and progress always go to stderr.
 */
export class Output {
  readonly json: boolean;
  readonly quiet: boolean;
  readonly verbose: boolean;
  readonly style: Style;
  readonly stdoutIsTTY: boolean;
  readonly stderrIsTTY: boolean;

  constructor(
    options: OutputOptions,
    private readonly stdout: Stream = process.stdout,
    private readonly stderr: Stream = process.stderr,
  ) {
    this.json = options.json;
    this.quiet = options.quiet;
    this.verbose = options.verbose;
    this.stdoutIsTTY = Boolean(stdout.isTTY);
    this.stderrIsTTY = Boolean(stderr.isTTY);
    this.style = makeStyle(options.color && this.stdoutIsTTY);
  }

  /** The command's result: JSON with --json, else the human rendering. */
  result(data: unknown, human: () => string): void {
    // After Ctrl-C the interrupt's own line is the outcome; a result printed too would contradict it.
    if (isInterrupted()) return;
    if (this.json) {
      this.document(data);
      return;
    }
    const text = visible(human());
    if (text !== '') this.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  /**
   * A JSON document on stdout: indented for a person at a terminal, one compact line for a
   * pipe or a file (a script's input; `jq .` indents it). Large results (a deep trace) are
   * written several times faster compact.
   */
  document(data: unknown): void {
    this.stdout.write(`${JSON.stringify(data, null, this.stdoutIsTTY ? 2 : undefined)}\n`);
  }

  /** Raw bytes for stdout (markdown content, exports): no newline added. */
  raw(text: string | Uint8Array): void {
    (this.stdout as unknown as { write(chunk: string | Uint8Array): boolean }).write(text);
  }

  info(message: string): void {
    if (!this.quiet) this.stderr.write(`${visible(message)}\n`);
  }

  warn(message: string): void {
    this.stderr.write(`warning: ${visible(message)}\n`);
  }

  error(message: string): void {
    this.stderr.write(`${visible(message)}\n`);
  }

  /**
   * A table: cli-table3 with borders on a terminal; elsewhere plain columns separated by two
   * spaces — quick to print for thousands of rows, and easy for grep, cut and awk.
   */
  table(head: string[], rows: Array<Array<string | number | null | undefined>>): string {
    if (rows.length === 0) return this.style.dim('(none)');
    const cells = rows.map((row) =>
      row.map((cell) => (cell === null || cell === undefined ? '' : String(cell))),
    );
    if (this.stdoutIsTTY) {
      // Loaded here, at a terminal, so commands writing JSON or to a pipe never load it.
      const Table = require('cli-table3') as typeof CliTable;
      const table = new Table({
        head: head.map((h) => this.style.bold(h)),
        style: { head: [], border: [] },
      });
      for (const row of cells) table.push(row);
      return table.toString();
    }
    const widths = head.map((h, i) =>
      Math.max(h.length, ...cells.map((row) => (row[i] ?? '').length)),
    );
    const line = (row: string[]) =>
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
        .join('  ')
        .trimEnd();
    return [line(head), ...cells.map(line)].join('\n');
  }

  /** A spinner on stderr when stderr is a terminal; otherwise silent. */
  async progress(text: string): Promise<Progress> {
    // A terminal that reports no width (some pseudo-terminals) would make ora redraw forever.
    const width = (process.stderr as { columns?: number }).columns ?? 0;
    if (!this.stderrIsTTY || this.quiet || width <= 0)
      return { update() {}, stop() {}, shown: false };
    const { default: ora } = await import('ora');
    const spinner = ora({ text, stream: process.stderr }).start();
    return {
      update: (next) => {
        spinner.text = next;
      },
      stop: () => spinner.stop(),
      shown: true,
    };
  }
}
