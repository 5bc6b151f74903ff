import type { Progress } from './output.js';

const count = (n: number) => Math.round(n).toLocaleString('en-US');

function duration(seconds: number): string {
  if (seconds < 60) return `${seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)} s`;
  const m = Math.floor(seconds / 60);
  return m < 60
    ? `${m} min ${Math.round(seconds % 60)} s`
    : `${Math.floor(m / 60)} h ${m % 60} min`;
}

export type Meter = {
  /** How many are done, and where a total is known, the fraction of it. */
  update(done: number, fraction?: number): void;
  /** The closing words: how long it took and how fast, e.g. "in 12.3 s (41,200 events/s)". */
  summary(done: number): string;
};

/**
 * Progress for long work, shown on a terminal only: how many, the rate, and where the total can
 * be known (the input's size read so far, the rows to export) how far and how long is left.
 */
export function meter(progress: Progress, verb: string, unit: string): Meter {
  const started = performance.now();
  const seconds = () => (performance.now() - started) / 1000;
  return {
    update(done, fraction) {
      const s = seconds();
      let text = `${verb} ${count(done)} ${unit}`;
      if (s > 0.5) text += ` · ${count(done / s)} ${unit}/s`;
      if (fraction !== undefined && fraction > 0.01 && fraction < 1)
        text += ` · ${Math.floor(fraction * 100)}% · ${duration((s * (1 - fraction)) / fraction)} left`;
      progress.update(text);
    },
    summary(done) {
      const s = seconds();
      return `in ${duration(s)} (${count(s > 0 ? done / s : done)} ${unit}/s)`;
    },
  };
}
