import type { MetricSpec, MetricValue, ModelArtifact } from '../core/index.js';
import type { ArchJson } from './search-space.js';

/** Which trial an evaluation belongs to (for logs, worker placement and energy attribution). */
export interface TrialInfo {
  /** Run id. */
  runId: number;
  /** Position of the trial in the run's evaluation order. */
  seq: number;
  /** The architecture's key. */
  key: string;
  /** Metrics the run's objectives need; an evaluator may fail early (with the reason) when one is missing. */
  needed?: readonly string[];
}

/** What an evaluation returns. */
export interface EvaluationResult {
  /** Metrics, each with unit and source. */
  metrics: MetricValue[];
  /** Worker / host that evaluated it. */
  worker?: string;
  /** The trained model, when the evaluator trains one (the study stores it with the trial). */
  model?: ModelArtifact;
}

/**
 * Turns an architecture into metrics: a benchmark-table lookup, or proxy training on workers.
 * A failure the search should survive is thrown as a TrialError (or any error); the trial is
 * recorded as failed with that reason and the search goes on.
 */
export interface Evaluator<A extends ArchJson = ArchJson> {
  /** Backend that evaluates (`table` for lookups, or the tfjs backend name). */
  readonly backend: string;
  /** How many evaluations can usefully run at once. */
  readonly concurrency: number;
  /** The metrics every successful evaluation returns. */
  metrics(): readonly MetricSpec[];
  /** Evaluates one architecture. */
  evaluate(arch: A, trial: TrialInfo): Promise<EvaluationResult>;
  /** Releases workers and other resources. */
  close(): Promise<void>;
}
