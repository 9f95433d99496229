import type { Direction } from '../core/index.js';

/** One thing a search optimises: a metric as is, or a formula over metrics (e.g. the MnasNet reward). */
export interface Objective {
  /** Name shown in tables, e.g. `accuracy` or `mnas_reward`. */
  name: string;
  /** Which way is better. */
  direction: Direction;
  /** Unit of the value. */
  unit: string;
  /** Metric names the value needs. */
  requires: readonly string[];
  /** The objective's value from a trial's metrics (name → number). */
  value(metrics: Readonly<Record<string, number>>): number;
}

/** Objective values turned into a vector where smaller is better in every coordinate. */
export function toLosses(objectives: readonly Objective[], metrics: Readonly<Record<string, number>>): number[] {
  return objectives.map((o) => {
    const v = o.value(metrics);
    return o.direction === 'maximize' ? -v : v;
  });
}
