import * as tf from '@tensorflow/tfjs';
import type { MetricValue } from '../core/index.js';
import { iterateBatches, type DataSplit } from '../data/index.js';
import { measurementToMetric, openEnergyWindow, type EnergyMeter, type Measurement } from '../energy/index.js';
import { layersModelCost } from '../space/index.js';
import { layersModelToOnnx, onnxInferenceRunner, openOnnxSession, type OnnxExport } from '../trainer/index.js';
import { median } from '../trainer/latency-probe.js';
import { batchTensor, splitAccuracy } from '../trainer/proxy-training.js';
import { countNonzeroParams } from './magnitude-pruning.js';

/** How inference is timed and metered at batch 1. */
export interface InferenceProbe {
  /** Untimed runs first (kernel set-up, caches). */
  warmupRuns: number;
  /** At least this many timed runs. */
  timedRuns: number;
  /** More timed runs until the metered window lasts at least this long (a meter needs a window well above its update period). */
  minWindowMs: number;
}

/** Default probe: 10 warm-up runs, then ≥ 50 timed runs lasting ≥ 1 s together. */
export const DEFAULT_INFERENCE_PROBE: InferenceProbe = { warmupRuns: 10, timedRuns: 50, minWindowMs: 1000 };

/** What batch-1 inference measured: latency runs and the energy window around exactly those runs. */
export interface InferenceMeasurement {
  /** Median of the timed runs, ms. */
  medianMs: number;
  /** Every timed run, ms. */
  runsMs: number[];
  /** The meter's window around the timed runs (not the warm-up). */
  measurement: Measurement;
  /** Where it ran: `onnxruntime-node` or `tfjs` (the default). */
  runtime?: string;
}

/**
 * Times `runOnce` (one complete inference, output read back) and meters the timed runs: warm-up,
 * a count of timed runs sized from the warm-up so the window lasts `minWindowMs`, one energy window
 * around all of them. Shared by tfjs models and ONNX Runtime sessions so both are measured alike.
 */
export async function meterInference(meter: EnergyMeter, label: string, runOnce: () => Promise<void> | void, probe: InferenceProbe = DEFAULT_INFERENCE_PROBE): Promise<InferenceMeasurement> {
  const warm: number[] = [];
  for (let i = 0; i < Math.max(1, probe.warmupRuns); i++) {
    const t0 = performance.now();
    await runOnce();
    warm.push(performance.now() - t0);
  }
  const estimateMs = Math.max(1e-3, median(warm));
  const runs = Math.min(100_000, Math.max(probe.timedRuns, Math.ceil(probe.minWindowMs / estimateMs)));
  const runsMs: number[] = new Array(runs);
  const window = await openEnergyWindow(meter, label);
  try {
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      await runOnce();
      runsMs[i] = performance.now() - t0;
    }
  } finally {
    await window.close();
  }
  return { medianMs: median(runsMs), runsMs, measurement: await window.close() };
}

/** The latency and per-inference energy metrics of one inference measurement. */
export function inferenceMetrics(m: InferenceMeasurement, detail: Record<string, unknown>): MetricValue[] {
  const out: MetricValue[] = [{
    name: 'latency.cpu', value: m.medianMs, unit: 'ms', source: 'measured',
    detail: { ...detail, batchSize: 1, probe: 'median of timed runs after warm-up', timedRuns: m.runsMs.length },
  }];
  const energy = measurementToMetric(m.measurement, 'energy.infer');
  if (energy) {
    energy.value /= m.runsMs.length;
    energy.detail = { ...energy.detail, ...detail, per: 'inference at batch 1', inferences: m.runsMs.length };
    out.push(energy);
  }
  return out;
}

/** One sample of a split as a batch-1 input array (pixels scaled to [0, 1] as in training). */
export function firstSample(split: DataSplit): Float32Array | Int32Array {
  const [batch] = iterateBatches(split, { batchSize: 1, maxBatches: 1 });
  if (!batch) throw new Error('the split is empty: nothing to probe inference with');
  return batch.x;
}

/** Where and how a model is measured. */
export interface MeasureContext {
  /** Test split: accuracy is reported on it. */
  test: DataSplit;
  /** One sample's shape. */
  inputShape: readonly number[];
  /** Meter for inference energy. */
  meter: EnergyMeter;
  /** tfjs backend name, recorded with latency. */
  backend: string;
  /** Latency / energy probe. */
  probe?: InferenceProbe;
  /** Label of the energy window. */
  label: string;
}

/** Parameters, nonzero parameters and multiply-adds per sample, read off the built model. */
export function structureMetrics(model: tf.LayersModel): MetricValue[] {
  const cost = layersModelCost(model);
  return [
    { name: 'params', value: cost.params, unit: 'count', source: 'computed', detail: { from: 'built model' } },
    { name: 'params.nonzero', value: countNonzeroParams(model), unit: 'count', source: 'computed', detail: { from: 'trainable weights ≠ 0' } },
    { name: 'macs', value: cost.macs, unit: 'count', source: 'computed', detail: { per: 'sample', from: 'built model', dense: true } },
  ];
}

/**
 * Times and meters batch-1 inference of a tfjs model on the fastest runtime present, as the search's
 * latency probe does: ONNX Runtime on one thread when the model converts, else the tfjs backend
 * (input and outputs disposed).
 */
export async function meterLayersModelInference(model: tf.LayersModel, ctx: MeasureContext): Promise<InferenceMeasurement> {
  let onnx: OnnxExport | undefined;
  try {
    onnx = layersModelToOnnx(model);
  } catch {
    onnx = undefined; // a layer ONNX export does not map: measure in tfjs
  }
  const sample = firstSample(ctx.test);
  if (onnx && sample instanceof Float32Array) {
    const session = await openOnnxSession(onnx.bytes, { intraOpNumThreads: 1 });
    try {
      const m = await meterInference(ctx.meter, ctx.label, onnxInferenceRunner(session, sample, [1, ...onnx.inputShape]), ctx.probe);
      return { ...m, runtime: 'onnxruntime-node' };
    } finally {
      await session.release();
    }
  }
  const input = batchTensor({ x: sample, size: 1 }, ctx.inputShape);
  try {
    return await meterInference(ctx.meter, ctx.label, () => {
      const out = model.predict(input) as tf.Tensor;
      out.dataSync();
      out.dispose();
    }, ctx.probe);
  } finally {
    input.dispose();
  }
}

/** One model of a side-by-side measurement and the energy-window label of its round `r`. */
export interface SideBySideModel {
  /** The model. */
  model: tf.LayersModel;
  /** Label of its window in round `r`. */
  label: (round: number) => string;
}

/**
 * Meters batch-1 inference of several models side by side: `rounds` rounds, each visiting every model
 * once (in the order `orderOf(round)` gives as indices, else as listed), so that a change of machine
 * load hits all of them alike; returns each model's rounds combined (combineRounds), in list order.
 */
export async function meterSideBySide(models: readonly SideBySideModel[], ctx: Omit<MeasureContext, 'label'>, rounds = 3,
  orderOf: (round: number) => readonly number[] = () => models.map((_, i) => i)): Promise<ReturnType<typeof combineRounds>[]> {
  const measured: InferenceMeasurement[][] = models.map(() => []);
  for (let r = 0; r < Math.max(1, rounds); r++) {
    for (const i of orderOf(r)) {
      const m = models[i] as SideBySideModel;
      (measured[i] as InferenceMeasurement[]).push(await meterLayersModelInference(m.model, { ...ctx, label: m.label(r) }));
    }
  }
  return measured.map((rs) => combineRounds(rs));
}

/**
 * One figure from several measurement rounds: the median of the rounds' median latencies, and the
 * window of the round with the median energy per inference (a real window, so its provenance holds);
 * every round's energy per inference is kept in `roundsJ`.
 */
export function combineRounds(rounds: InferenceMeasurement[]): InferenceMeasurement & { roundsJ: number[] } {
  if (rounds.length === 0) throw new Error('no measurement round');
  const perInference = (m: InferenceMeasurement) => (m.measurement.energyJ?.total ?? Number.NaN) / m.runsMs.length;
  const byEnergy = [...rounds].sort((a, b) => perInference(a) - perInference(b));
  const mid = byEnergy[(byEnergy.length - 1) >> 1] as InferenceMeasurement;
  return { ...mid, medianMs: median(rounds.map((r) => r.medianMs)), roundsJ: rounds.map(perInference) };
}

/**
 * The metrics of a tfjs model: test accuracy, structure (parameters, nonzero parameters,
 * multiply-adds), the size of its stored artifact, and batch-1 latency and energy per inference
 * from `inference` (measured by the caller, e.g. in rounds alternating with its parent).
 */
export function layersModelMetrics(model: tf.LayersModel, sizeBytes: { value: number; weights: string }, inference: InferenceMeasurement & { roundsJ?: number[] }, ctx: MeasureContext): MetricValue[] {
  const rounds = inference.roundsJ ? { rounds: inference.roundsJ.length, roundsJPerInference: inference.roundsJ } : {};
  return [
    { name: 'accuracy', value: splitAccuracy(model, ctx.test, ctx.inputShape), unit: 'fraction', source: 'measured', detail: { split: 'test', samples: ctx.test.count, runtime: 'tfjs' } },
    ...structureMetrics(model),
    { name: 'size.bytes', value: sizeBytes.value, unit: 'B', source: 'computed', detail: { format: 'tfjs-layers', weights: sizeBytes.weights } },
    ...inferenceMetrics(inference, { runtime: inference.runtime ?? 'tfjs', ...(inference.runtime === 'onnxruntime-node' ? { intraOpThreads: 1 } : { backend: ctx.backend }), warmupRuns: ctx.probe?.warmupRuns ?? DEFAULT_INFERENCE_PROBE.warmupRuns, ...rounds }),
  ];
}
