import type { MetricSpec, MetricValue, Rng } from '../core/index.js';

/** An architecture: plain JSON, so it crosses worker threads and goes into the store as is. */
export type ArchJson = null | boolean | number | string | ArchJson[] | { [key: string]: ArchJson };

/** One categorical decision of a space; strategies that learn over choices (reinforce, surrogate) use these. */
export interface Decision {
  /** Stable name, e.g. `edge_0_1` or `stage2.kernel`. */
  name: string;
  /** The options, in a fixed order; an encoding stores the index into this list. */
  choices: readonly (string | number | boolean)[];
}

/** What a trained space builds a model for. */
export interface Task {
  /** Dataset id, e.g. `fashion-mnist`. */
  dataset: string;
  /** Input shape of one sample, without the batch dimension. */
  inputShape: number[];
  /** Number of output classes. */
  numClasses: number;
  /** `image` for HWC float input, `text` for integer token ids. */
  kind: 'image' | 'text';
  /** Vocabulary size, for text. */
  vocabSize?: number;
}

/** Exact size of a model. */
export interface Cost {
  /** Trainable parameters. */
  params: number;
  /** Multiply-adds per sample (FLOPs ≈ 2 × MACs). */
  macs: number;
}

/** Context passed to a tabular space's evaluate(). */
export interface TableEvaluationContext {
  /** Dataset id the search runs on. */
  dataset: string;
  /**
   * Metric names the run needs (its objectives' `requires`). A value missing for one of these fails
   * the trial with the table's reason; without this list the space returns whatever values it has.
   */
  metrics?: readonly string[];
}

/**
 * The contract every search space implements, built-in or a user's plug-in.
 * A space either looks results up (`evaluate`, for published benchmarks) or builds models to train
 * (`build` + `cost`).
 */
export interface SearchSpace<A extends ArchJson = ArchJson> {
  /** Short id used on the command line, e.g. `nasbench201`. */
  readonly name: string;
  /** Version of the space's definition; stored with every run. */
  readonly version: string;
  /** One line for `greennas spaces`. */
  readonly description: string;
  /** Datasets this space can be searched on; the first is the default. */
  readonly datasets: readonly string[];
  /** The fixed-length categorical decisions that make up an architecture. */
  decisions(): readonly Decision[];
  /** Choice index per decision, in decisions() order. */
  encode(arch: A): number[];
  /** Inverse of encode. */
  decode(choices: readonly number[]): A;
  /** Checks an unknown value (a user's JSON) and returns it as an architecture, or throws a UserError. */
  validate(value: unknown): A;
  /** Draws an architecture uniformly (or by the space's own prior). */
  sample(rng: Rng): A;
  /** A nearby architecture that differs from `arch`. */
  mutate(arch: A, rng: Rng): A;
  /** Combines two parents; optional. */
  crossover?(a: A, b: A, rng: Rng): A;
  /** Canonical key for de-duplication: equal keys mean the same network. */
  key(arch: A): string;
  /** Metrics the space itself can report for `dataset` (tabular spaces; trained spaces add params/macs). */
  metrics(dataset: string): readonly MetricSpec[];
  /** Looks up an architecture's metrics (tabular spaces). Throws a TrialError when a value is missing. */
  evaluate?(arch: A, context: TableEvaluationContext): Promise<MetricValue[]> | MetricValue[];
  /** Builds a tfjs model for the task (trained spaces). Returns a `tf.LayersModel`. */
  build?(arch: A, task: Task): unknown;
  /** Exact parameter and multiply-add counts for the task (trained spaces). */
  cost?(arch: A, task: Task): Cost;
  /** Short human label for tables. */
  label?(arch: A): string;
  /**
   * Optional categorical descriptors for surrogate models, compared by equality (e.g. one code per
   * input-to-output path of a cell, 0 when the path is cut). They let a model see that architectures
   * with different choices compute the same thing; strategies use them next to encode().
   */
  features?(arch: A): number[];
  /**
   * Optional: every architecture of the space, for spaces small enough to list (NAS-Bench-201's
   * 15,625 cells). Model-based strategies then screen all unseen ones instead of a sampled pool.
   */
  enumerate?(): readonly A[];
}
