import { isMainThread, threadId } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { TrialError, type MetricValue, type ModelArtifact } from '../core/index.js';
import type { DataSplit, DatasetInfo } from '../data/index.js';
import {
  attributeByCpuTime,
  measurementToMetric,
  openEnergyWindow,
  processCpuTime,
  resolveEnergySetup,
  threadCpuTime,
  type EnergyFlags,
  type EnergyMeter,
  type Measurement,
} from '../energy/index.js';
import { loadSpacePlugin, type ArchJson, type SearchSpace } from '../space/index.js';
import { initBackend, type BackendInfo, type BackendPreference } from './backend.js';
import { probeLatency } from './latency-probe.js';
import { saveModelArtifact } from './model-artifacts.js';
import { batchTensor, proxyTrain, splitAccuracy, type CurvePoint, type ProxyBudget } from './proxy-training.js';

/** The energy flags a worker can receive (plain data; the CPU-time source is always the worker's own thread). */
export type WorkerEnergyFlags = Omit<EnergyFlags, 'cpuTime' | 'nvml'>;

/** A front member's values, for the pruning test in the worker. */
export interface PruneReference {
  /** Validation accuracy (fraction). */
  valAccuracy: number;
  /** The cost objectives' values, by metric name (all minimised). */
  costs: Record<string, number>;
}

/** Dominance pruning: stop a proxy whose curve cannot reach the front (see shouldPrune). */
export interface PruneRule {
  /** Current front (complete trials that are non-dominated), as known when the trial started. */
  front: PruneReference[];
  /** Cost metrics (minimised objectives) compared; each is known or projectable at a checkpoint. */
  costMetrics: string[];
  /** Optimism margin added to the proxy's validation accuracy before comparing (fraction). */
  margin: number;
}

/** Settings every trial of a run shares. */
export interface ProxySettings {
  /** Backend preference for the worker thread. */
  backend: BackendPreference;
  /** Training budget and optimiser. */
  budget: ProxyBudget;
  /** Latency probe: runs at batch 1 and at `latencyBatch`. */
  latencyBatch: number;
  /** Warm-up and timed runs of the latency probe. */
  latencyWarmupRuns: number;
  /** See latencyWarmupRuns. */
  latencyTimedRuns: number;
  /** Energy meter flags (resolved again in each worker, on its own thread's CPU time). */
  energy: WorkerEnergyFlags;
}

/** The data a trial trains and evaluates on (typed arrays on SharedArrayBuffer cross threads without a copy). */
export interface ProxyData {
  /** Task the space builds for. */
  task: DatasetInfo;
  /** Training split (already sub-sampled). */
  train: DataSplit;
  /** Validation split: the search signal. */
  validation: DataSplit;
  /** Test split: reported, never searched on. */
  test: DataSplit;
}

/** One proxy trial as plain data: which space (a module path), which architecture, the data and settings. */
export interface ProxyTrialTask {
  /** Absolute path of the module exporting the space (built-in spaces are passed by their module path too). */
  spaceModule: string;
  /** The architecture. */
  arch: ArchJson;
  /** Data to train and evaluate on. */
  data: ProxyData;
  /** Shared settings. */
  settings: ProxySettings;
  /** Dominance pruning, when enabled and a front exists. */
  prune?: PruneRule;
  /** Label for energy windows and logs. */
  label: string;
}

/** What a proxy trial returns. */
export interface ProxyTrialResult {
  /** Metrics, each with unit and source. */
  metrics: MetricValue[];
  /** The backend the worker trained on. */
  backend: BackendInfo;
  /** The learning curve. */
  curve: CurvePoint[];
  /** The trained model (topology and weights as plain data), so it can be stored and exported. */
  model: ModelArtifact;
  /** Worker thread id, for the store. */
  threadId: number;
  /** tf.memory().numTensors before the model was built and after everything was disposed. */
  numTensorsBefore: number;
  /** See numTensorsBefore. */
  numTensorsAfter: number;
}

let backendReady: Promise<BackendInfo> | undefined;
let backendPreference: BackendPreference | undefined;
let meterReady: Promise<EnergyMeter> | undefined;

function threadBackend(preferred: BackendPreference): Promise<BackendInfo> {
  if (!backendReady || backendPreference !== preferred) {
    backendPreference = preferred;
    backendReady = initBackend(preferred);
  }
  return backendReady;
}

function threadMeter(flags: WorkerEnergyFlags): Promise<EnergyMeter> {
  meterReady ??= resolveEnergySetup({ ...flags, cpuTime: threadCpuTime }).then((s) => s.meter);
  return meterReady;
}

/**
 * Whether a proxy at `point` cannot reach the front: some front member has validation accuracy at
 * least the proxy's plus the margin and is no worse on every cost metric. Costs the proxy cannot know
 * yet make it never prune (the test must be sound, not hopeful).
 */
export function shouldPrune(rule: PruneRule, valAccuracy: number, costs: Record<string, number | undefined>): boolean {
  for (const name of rule.costMetrics) if (costs[name] === undefined || !Number.isFinite(costs[name])) return false;
  return rule.front.some((f) => f.valAccuracy >= valAccuracy + rule.margin
    && rule.costMetrics.every((name) => (f.costs[name] ?? Number.POSITIVE_INFINITY) <= (costs[name] as number)));
}

/**
 * A window's energy for this thread alone: an estimate from this thread's CPU time already is; a
 * device-wide reading (counter, polled) is split by this thread's share of the process's CPU time.
 */
function ownShare(m: Measurement, threadCpuS: number, processCpuS: number): Measurement {
  if (m.source === 'estimated' || m.source === 'none') return m;
  const others = Math.max(0, processCpuS - threadCpuS);
  return attributeByCpuTime(m, { self: threadCpuS, others })['self'] ?? m;
}

async function metered<T>(meter: EnergyMeter, label: string, work: () => T | Promise<T>): Promise<{ value: T; measurement: Measurement }> {
  const t0 = threadCpuTime.cpuSeconds();
  const p0 = processCpuTime.cpuSeconds();
  const window = await openEnergyWindow(meter, label);
  let value: T;
  try {
    value = await work();
  } finally {
    await window.close();
  }
  const m = await window.close();
  return { value, measurement: ownShare(m, threadCpuTime.cpuSeconds() - t0, processCpuTime.cpuSeconds() - p0) };
}

function subsetCount(split: DataSplit, n: number): DataSplit {
  return n >= split.count ? split : { ...split, count: n, x: split.x.subarray(0, n * split.sampleSize), y: split.y.subarray(0, n), sourceIndex: split.sourceIndex.subarray(0, n) };
}

/**
 * Runs one proxy trial in this thread: backend (once per thread), space (once per module), build,
 * latency probe and inference energy (before training: neither depends on the weights' values, and
 * knowing them lets pruning act early), training inside an energy window with dominance pruning at
 * each checkpoint, validation and test accuracy. Every tensor is disposed, also on failure.
 */
export async function runProxyTrial(task: ProxyTrialTask): Promise<ProxyTrialResult> {
  const backend = await threadBackend(task.settings.backend);
  const meter = await threadMeter(task.settings.energy);
  const space = (await loadSpacePlugin(task.spaceModule, { exercise: false })) as SearchSpace;
  if (typeof space.build !== 'function') throw new TrialError(`space ${space.name} has no build(arch, task): it cannot be trained`, 'E_NOT_TRAINABLE');
  const arch = space.validate(task.arch);
  const numTensorsBefore = tf.memory().numTensors;
  try {
    const result = await trainAndMeasure(task, space, arch, backend, meter);
    return { ...result, threadId, numTensorsBefore, numTensorsAfter: tf.memory().numTensors };
  } catch (err) {
    if (!isOutOfMemory(err)) throw err;
    // A backend that ran out of memory may be left half-allocated: answer, then let the pool replace this thread.
    if (!isMainThread) setTimeout(() => process.exit(75), 200).unref?.();
    throw new TrialError(`out of memory while training on ${backend.name}: ${(err as Error).message}`, 'E_OUT_OF_MEMORY');
  }
}

/** Whether an error is an allocation failure (JS heap, wasm memory growth, native allocator). */
export function isOutOfMemory(err: unknown): boolean {
  const msg = err instanceof Error ? `${err.name} ${err.message}` : String(err);
  return /out of memory|OOM|Array buffer allocation failed|Cannot enlarge memory|memory access out of bounds|Invalid typed array length|allocation failed/i.test(msg);
}

async function trainAndMeasure(task: ProxyTrialTask, space: SearchSpace, arch: ArchJson, backend: BackendInfo, meter: EnergyMeter): Promise<Omit<ProxyTrialResult, 'threadId' | 'numTensorsBefore' | 'numTensorsAfter'>> {
  const { settings, data } = task;
  const cost = space.cost?.(arch, data.task);
  const metrics: MetricValue[] = [];
  let curve: CurvePoint[] = [];
  const model = (space.build as (a: ArchJson, t: DatasetInfo, o: { seed: number }) => tf.LayersModel)(arch, data.task, { seed: settings.budget.seed });
  try {
    if (!model || typeof (model as tf.LayersModel).predict !== 'function') throw new TrialError(`space ${space.name}: build() did not return a tfjs LayersModel`, 'E_BAD_MODEL');
    const inputShape = data.task.inputShape;
    if (cost) {
      metrics.push({ name: 'params', value: cost.params, unit: 'count', source: 'computed' });
      metrics.push({ name: 'macs', value: cost.macs, unit: 'count', source: 'computed', detail: { per: 'sample' } });
    }
    // Latency at batch 1 and at the stated batch, with the inference energy of the batch-1 runs.
    const probeInput = (n: number) => batchTensor({ x: subsetBatch(data.test, n), size: n }, inputShape);
    const one = probeInput(1);
    const probe = { batchSize: 1, warmupRuns: settings.latencyWarmupRuns, timedRuns: settings.latencyTimedRuns };
    let lat1;
    let inferM: Measurement;
    try {
      ({ value: lat1, measurement: inferM } = await metered(meter, `${task.label}/infer`, () => probeLatency(model, one, probe)));
    } finally {
      one.dispose();
    }
    const many = probeInput(settings.latencyBatch);
    let latN;
    try {
      latN = probeLatency(model, many, { ...probe, batchSize: settings.latencyBatch, timedRuns: Math.max(3, Math.ceil(settings.latencyTimedRuns / 3)) });
    } finally {
      many.dispose();
    }
    const where = { backend: backend.name, probe: 'median of timed runs after warm-up', warmupRuns: probe.warmupRuns };
    metrics.push({ name: 'latency.cpu', value: lat1.medianMs, unit: 'ms', source: 'measured', detail: { ...where, batchSize: 1, timedRuns: lat1.runsMs.length } });
    metrics.push({ name: `latency.cpu.b${settings.latencyBatch}`, value: latN.medianMs, unit: 'ms', source: 'measured', detail: { ...where, batchSize: settings.latencyBatch, timedRuns: latN.runsMs.length } });
    const inferMetric = measurementToMetric(inferM, 'energy.infer');
    if (inferMetric) {
      inferMetric.value /= lat1.runsMs.length;
      inferMetric.detail = { ...inferMetric.detail, per: 'inference at batch 1', inferences: lat1.runsMs.length };
      metrics.push(inferMetric);
    }
    const known: Record<string, number | undefined> = Object.fromEntries(metrics.map((m) => [m.name, m.value]));

    // Training, metered; pruning projects the whole budget's training time and energy linearly in steps,
    // from segment windows closed and reopened at each checkpoint (the training window stays open).
    const t0 = performance.now();
    let prunedAt: CurvePoint | undefined;
    let energySoFarJ = 0;
    let segment = await openEnergyWindow(meter, `${task.label}/train-segment-0`);
    const shouldStop = async (point: CurvePoint): Promise<boolean> => {
      const closed = await segment.close();
      energySoFarJ += closed.energyJ?.total ?? Number.NaN;
      segment = await openEnergyWindow(meter, `${task.label}/train-segment-${point.step}`);
      if (!task.prune || task.prune.front.length === 0) return false;
      const scale = point.plannedSteps / point.step;
      const projected = { ...known, 'train.seconds': ((performance.now() - t0) / 1000) * scale, 'energy.train': energySoFarJ * scale };
      if (shouldPrune(task.prune, point.valAccuracy, projected)) {
        prunedAt = point;
        return true;
      }
      return false;
    };
    const splits = { train: data.train, validation: data.validation, inputShape, numClasses: data.task.numClasses };
    let trained;
    let trainM: Measurement;
    try {
      ({ value: trained, measurement: trainM } = await metered(meter, `${task.label}/train`, () => proxyTrain(model, splits, settings.budget, shouldStop)));
    } finally {
      await segment.close();
    }
    const trainSeconds = (performance.now() - t0) / 1000;
    curve = trained.curve;
    if (prunedAt) {
      throw new TrialError(
        `pruned after ${prunedAt.step} of ${prunedAt.plannedSteps} steps: validation accuracy ${prunedAt.valAccuracy.toFixed(4)} + margin ${task.prune?.margin} ` +
          `cannot reach a front member that is no worse on ${task.prune?.costMetrics.join(', ')}`,
        'E_PRUNED',
      );
    }
    const testAccuracy = splitAccuracy(model, data.test, inputShape);
    const trainMetric = measurementToMetric(trainM, 'energy.train');
    metrics.push(
      { name: 'accuracy', value: testAccuracy, unit: 'fraction', source: 'measured', detail: { split: 'test', samples: data.test.count } },
      { name: 'accuracy.val', value: trained.valAccuracy, unit: 'fraction', source: 'measured', detail: { split: 'validation', samples: data.validation.count } },
      { name: 'train.seconds', value: trainSeconds, unit: 's', source: 'measured', detail: { steps: trained.steps, plannedSteps: trained.plannedSteps, samples: data.train.count, backend: backend.name } },
    );
    if (trainMetric) metrics.push(trainMetric);
    return { metrics, backend, curve, model: await saveModelArtifact(model) };
  } finally {
    model.dispose();
  }
}

function subsetBatch(split: DataSplit, n: number): Float32Array | Int32Array {
  const s = subsetCount(split, Math.min(n, split.count));
  const reps = Math.ceil(n / Math.max(1, s.count));
  const size = split.sampleSize;
  const out = split.x instanceof Uint8Array ? new Float32Array(n * size) : new Int32Array(n * size);
  for (let r = 0, o = 0; r < reps && o < n; r++) {
    for (let i = 0; i < s.count && o < n; i++, o++) {
      for (let j = 0; j < size; j++) out[o * size + j] = split.x instanceof Uint8Array ? (s.x[i * size + j] as number) / 255 : (s.x[i * size + j] as number);
    }
  }
  return out;
}
