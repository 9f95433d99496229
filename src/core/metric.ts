/** Whether larger or smaller values of a metric are better. */
export type Direction = 'maximize' | 'minimize';

/**
 * Where a number came from, so nothing estimated is ever shown as measured.
 * `table`: looked up in a published benchmark; `computed`: derived exactly (params, FLOPs);
 * `measured`: timed or evaluated here; `counter` / `polled` / `estimated`: energy provenance.
 */
export type MetricSource = 'table' | 'computed' | 'measured' | 'counter' | 'polled' | 'estimated';

/** Describes one metric an evaluator can produce. */
export interface MetricSpec {
  /** Dotted name used on the command line, e.g. `accuracy`, `latency.edgegpu`. */
  name: string;
  /** Which way is better. */
  direction: Direction;
  /** Unit of the stored value, e.g. `fraction`, `ms`, `mJ`, `J`, `count`. */
  unit: string;
  /** One line for `greennas spaces` and reports. */
  description: string;
}

/** One metric value as stored with a trial. */
export interface MetricValue {
  /** Metric name, as in MetricSpec. */
  name: string;
  /** The number, in `unit`. */
  value: number;
  /** Unit of `value`. */
  unit: string;
  /** Provenance of the value. */
  source: MetricSource;
  /** Extra provenance (meter, window length, devices, table column…), stored as JSON. */
  detail?: Record<string, unknown>;
}
