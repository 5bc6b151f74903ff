import type { Knex } from 'knex';
import { EVENTS_TABLE } from './archiveChunk.js';
import { archiveNormalizedEvents } from './archiveEvents.js';
import type { NormalizedEvent } from './eventSchema.js';
import { contentColumns, type ContentColumn } from '../integrity/contentColumns.js';

/** Where an appended event is in the ledger, and whether this request stored it. */
export type AppendOutcome = {
  event_id: string;
  chain: string;
  seq: string;
  hash: string;
  status: 'archived' | 'already_archived';
};

type Job = {
  events: NormalizedEvent[];
  resolve: (outcomes: AppendOutcome[]) => void;
  reject: (error: unknown) => void;
};

/** A committed group's outcome by event id, and its durability (the WAL on disk), to come. */
type Written = { outcomes: Promise<Map<string, AppendOutcome>>; durable: Promise<void> };

/**
 * Group commit for the endpoint's appends. Appends to a chain serialize on its lock, so the
 * requests that arrive while one transaction is being written wait, and are then written
 * together in the next one. Each transaction commits without waiting for its WAL to reach disk
 * (releasing the chain's lock at once); its requests are answered only once a flush on another
 * connection has made it durable, while the next group is already being written. If a group is
 * refused (one request's conflict, or unknown parent), its requests are written again one by
 * one, so each gets its own answer and the others are not held back by it.
 */
export class AppendQueue {
  private waiting: Job[] = [];
  private running = false;
  /** Flushes not yet done: the acknowledgements still owed. */
  private readonly flushing = new Set<Promise<void>>();
  /** cc.events' content columns: fixed by the 1.0 schema, so read once. */
  private columns: ContentColumn[] | undefined;

  constructor(
    private readonly knex: Knex,
    /** Events at most in one transaction. */
    private readonly maxGroup: number,
  ) {}

  append(events: NormalizedEvent[]): Promise<AppendOutcome[]> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ events, resolve, reject });
      if (!this.running) void this.drain();
    });
  }

  /** Resolves once nothing is being written, waiting or owed (for a graceful shutdown). */
  async idle(): Promise<void> {
    while (this.running || this.flushing.size > 0)
      await new Promise((resolve) => setTimeout(resolve, 10));
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.waiting.length > 0) {
        const group: Job[] = [];
        let size = 0;
        while (this.waiting.length > 0) {
          const next = this.waiting[0] as Job;
          if (group.length > 0 && size + next.events.length > this.maxGroup) break;
          group.push(next);
          size += next.events.length;
          this.waiting.shift();
        }
        await this.writeGroup(group);
      }
    } finally {
      this.running = false;
    }
  }

  /** Answers a job once its write is durable and its receipts are read. */
  private answer(
    job: Job,
    written: Written,
    outcomes: (all: Map<string, AppendOutcome>) => AppendOutcome[],
  ): void {
    const settled = Promise.all([written.outcomes, written.durable]).then(
      ([all]) => job.resolve(outcomes(all)),
      (error: unknown) => job.reject(error),
    );
    this.flushing.add(settled);
    void settled.finally(() => this.flushing.delete(settled));
  }

  private async writeGroup(group: Job[]): Promise<void> {
    let written: Written;
    try {
      written = await this.write(group.flatMap((job) => job.events));
    } catch (error) {
      if (group.length === 1) {
        group[0]?.reject(error);
        return;
      }
      for (const job of group) {
        try {
          const own = await this.write(job.events);
          this.answer(job, own, (all) =>
            job.events.map((e) => all.get(e.event_id) as AppendOutcome),
          );
        } catch (failed) {
          job.reject(failed);
        }
      }
      return;
    }
    // An event sent by several requests of the group was stored by the first of them.
    const claimed = new Set<string>();
    const claims = group.map((job) =>
      job.events.map((e) => {
        if (claimed.has(e.event_id)) return false;
        claimed.add(e.event_id);
        return true;
      }),
    );
    for (const [j, job] of group.entries())
      this.answer(job, written, (all) =>
        job.events.map((e, i) => {
          const outcome = all.get(e.event_id) as AppendOutcome;
          return claims[j]?.[i] ? outcome : { ...outcome, status: 'already_archived' };
        }),
      );
  }

  /**
   * Writes events in one transaction. Returns once it has committed; where each event is (and
   * whether it is new) and the flush that makes it durable follow on other connections, while
   * the next group is written.
   */
  private async write(events: NormalizedEvent[]): Promise<Written> {
    this.columns ??= await contentColumns(this.knex, EVENTS_TABLE);
    const written = await archiveNormalizedEvents(this.knex, events, {
      label: 'body',
      // One batch, never "full" before the end, committed without waiting for the disk.
      batchSize: events.length + 1,
      columns: this.columns,
      flush: false,
    });
    // One statement in autocommit: a transaction of its own, given an id, committed waiting for
    // its WAL. WAL is flushed in order, so that covers the one before (and PostgreSQL merges the
    // flushes of concurrent ones).
    const durable = Promise.resolve(this.knex.raw('select txid_current()')).then(() => undefined);
    const fresh = new Set(written.ids ?? []);
    const ids = [...new Set(events.map((e) => e.event_id))];
    const outcomes = Promise.resolve(
      this.knex.raw<{ rows: Array<Omit<AppendOutcome, 'status'>> }>(
        `select event_id, chain, seq::text as seq, encode(hash, 'hex') as hash
           from cc.events where event_id = any(?)`,
        [ids],
      ),
    ).then(
      ({ rows }) =>
        new Map(
          rows.map((r) => [
            r.event_id,
            {
              ...r,
              status: fresh.has(r.event_id) ? ('archived' as const) : ('already_archived' as const),
            },
          ]),
        ),
    );
    durable.catch(() => undefined);
    outcomes.catch(() => undefined);
    return { outcomes, durable };
  }
}
