import * as tf from '@tensorflow/tfjs';

/** How a latency probe times a model. */
export interface LatencyProbeOptions {
  /** Samples per timed inference. */
  batchSize: number;
  /** Untimed inferences first (kernel set-up, JIT, caches). */
  warmupRuns: number;
  /**
   * Keep warming up until this much time has passed too (default 250 ms): a thread's first model
   * is still JIT-cold after a handful of runs of a millisecond each.
   */
  warmupMs?: number;
  /** Timed inferences; the median is reported. */
  timedRuns: number;
}

/** What a latency probe measured. */
export interface LatencyProbeResult {
  /** Samples per inference. */
  batchSize: number;
  /** Median wall time of one inference of the whole batch, in ms. */
  medianMs: number;
  /** Every timed run, in ms, in order. */
  runsMs: number[];
  /** Untimed warm-up runs done before them (they count when energy is divided per inference). */
  warmups: number;
}

/** Bound on time-based warm-up runs, for models so slow that a few runs already take long. */
const MAX_WARMUP_RUNS = 200;

/**
 * Whether a probe that has done `done` warm-up runs should do another: at least `warmupRuns`, and
 * until `warmupMs` (default 250 ms) have passed since this call, up to MAX_WARMUP_RUNS.
 */
export function warmupPolicy(options: LatencyProbeOptions): (done: number) => boolean {
  const until = performance.now() + (options.warmupMs ?? 250);
  return (done) => done < options.warmupRuns || (performance.now() < until && done < MAX_WARMUP_RUNS);
}

/** Median of a non-empty list. */
export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/**
 * Times inference of `model` on one fixed input (the values do not change the work a dense network
 * does): warm-up runs, then `timedRuns` runs each ended by reading the output back so the backend has
 * really finished. Runs on the backend the thread trained on. The input and outputs are disposed.
 */
export function probeLatency(model: tf.LayersModel, input: tf.Tensor, options: LatencyProbeOptions): LatencyProbeResult {
  const runOnce = (): number => {
    const t0 = performance.now();
    const out = model.predict(input) as tf.Tensor;
    out.dataSync();
    out.dispose();
    return performance.now() - t0;
  };
  const moreWarmup = warmupPolicy(options);
  let warmups = 0;
  for (; moreWarmup(warmups); warmups++) runOnce();
  const runsMs: number[] = [];
  for (let i = 0; i < options.timedRuns; i++) runsMs.push(runOnce());
  return { batchSize: options.batchSize, medianMs: median(runsMs), runsMs, warmups };
}
