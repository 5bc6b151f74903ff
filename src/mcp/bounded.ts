import { capTrace } from '../lineage/capTrace.js';
import type { Trace } from '../lineage/trace.js';

/** What one tool result may hold, bytes of JSON: an agent's context is not a dump. */
export const DEFAULT_BYTE_CAP = 64 * 1024;

const size = (value: unknown) => Buffer.byteLength(JSON.stringify(value));

/** The longest prefix of a list whose JSON fits the cap (at least nothing). */
export function boundedList<T>(items: T[], cap: number): { items: T[]; truncated: boolean } {
  let used = 2;
  for (const [i, item] of items.entries()) {
    used += size(item) + 1;
    if (used > cap) return { items: items.slice(0, i), truncated: true };
  }
  return { items, truncated: false };
}

/**
 * One record under its name; over the cap, its payload or content is left out (null) and
 * `truncated` says so: the whole record is over HTTP (GET /v1/events/{id}, the version's markdown).
 */
export function boundedRecord<T extends Record<string, unknown>>(
  name: string,
  record: T,
  cap: number,
): Record<string, unknown> {
  if (size(record) <= cap) return { [name]: record, truncated: false };
  const cut = { ...record } as Record<string, unknown>;
  if ('payload' in cut) cut.payload = null;
  if ('content' in cut) cut.content = '';
  return { [name]: cut, truncated: true };
}

/** A trace cut to the cap: its farthest nodes go first, with their edges. */
export function boundedTrace(t: Trace, cap: number): Record<string, unknown> {
  if (size(t) <= cap) return t as unknown as Record<string, unknown>;
  const nearest = [...t.nodes].sort((a, b) => Math.abs(a.distance) - Math.abs(b.distance));
  const cut = capTrace(t, boundedList(nearest, Math.floor(cap * 0.6)).items.length);
  return { ...cut, truncated: true, edges: boundedList(cut.edges, Math.floor(cap * 0.35)).items };
}
