import type * as tf from '@tensorflow/tfjs';
import type { Logger, MetricValue } from '../core/index.js';
import { combineRounds, DEFAULT_INFERENCE_PROBE, inferenceMetrics, meterInference, type InferenceMeasurement, type InferenceProbe } from './measure.js';
import type { Int8Runtime } from './pipeline.js';
import { iterateBatches, type DataSplit } from '../data/index.js';
import type { EnergyMeter } from '../energy/index.js';
import { INT8_CALIBRATION_SAMPLES, layersModelToOnnx, onnxInferenceRunner, openOnnxSession, quantizeOnnxInt8, runOnnxBatched } from '../trainer/index.js';

/** A split's first `n` samples as float input (pixels scaled to [0, 1] as in training). */
function splitInput(split: DataSplit, n: number): { input: Float32Array; count: number } {
  const count = Math.min(n, split.count);
  const [batch] = iterateBatches(split, { batchSize: Math.max(1, count), maxBatches: 1 });
  if (!batch || count === 0) return { input: new Float32Array(0), count: 0 };
  return { input: batch.x instanceof Float32Array ? batch.x : Float32Array.from(batch.x), count };
}

/**
 * INT8 through the export module: the model converted to float ONNX, quantized to QDQ INT8
 * (per-channel weights, activations calibrated on the first samples of the held-out validation
 * split), and the INT8 model and the float parent metered alternately in onnxruntime-node's CPU
 * provider on one thread: test accuracy, size, batch-1 latency and energy per inference on the
 * caller's meter (one window around each round's timed runs).
 */
export function onnxInt8Runtime(ctx: { meter: EnergyMeter; test: DataSplit; probe?: InferenceProbe; logger: Logger }): Int8Runtime {
  const probe = ctx.probe ?? DEFAULT_INFERENCE_PROBE;
  const test = splitInput(ctx.test, ctx.test.count);

  /** Test accuracy and a batch-1 runner of one ONNX model. */
  const open = async (bytes: Uint8Array, sampleShape: readonly number[]) => {
    const session = await openOnnxSession(bytes, { intraOpNumThreads: 1 });
    const name = session.outputNames[0] as string;
    const parts = (await runOnnxBatched(session, test.input, sampleShape, test.count, { outputNames: [name] })).get(name) ?? [];
    const all = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
    let o = 0;
    for (const p of parts) { all.set(p, o); o += p.length; }
    const k = test.count ? all.length / test.count : 0;
    let correct = 0;
    for (let row = 0; row < test.count; row++) {
      let best = 0;
      for (let c = 1; c < k; c++) if ((all[row * k + c] as number) > (all[row * k + best] as number)) best = c;
      if (best === ctx.test.y[row]) correct++;
    }
    const sampleSize = sampleShape.reduce((a, b) => a * b, 1);
    const runOnce = onnxInferenceRunner(session, test.input.slice(0, sampleSize), [1, ...sampleShape]);
    return { session, runOnce, accuracy: test.count ? correct / test.count : Number.NaN };
  };

  const metricsOf = (accuracy: number, bytes: Uint8Array, weights: string, inference: ReturnType<typeof combineRounds>): MetricValue[] => [
    { name: 'accuracy', value: accuracy, unit: 'fraction', source: 'measured', detail: { split: 'test', samples: test.count, runtime: 'onnxruntime-node' } },
    { name: 'size.bytes', value: bytes.byteLength, unit: 'B', source: 'computed', detail: { format: 'onnx', weights } },
    ...inferenceMetrics(inference, { runtime: 'onnxruntime-node', provider: 'cpu', intraOpThreads: 1, warmupRuns: probe.warmupRuns, rounds: inference.roundsJ.length, roundsJPerInference: inference.roundsJ }),
  ];

  return {
    async quantizeAndMeasure(model: tf.LayersModel, parent: tf.LayersModel, calibration: DataSplit, label: string, rounds: number) {
      const float = layersModelToOnnx(model);
      const parentFloat = model === parent ? float : layersModelToOnnx(parent);
      const calib = splitInput(calibration, INT8_CALIBRATION_SAMPLES);
      const int8 = await quantizeOnnxInt8(float.bytes, calib);
      ctx.logger.info(`${label}: float ONNX ${float.bytes.byteLength} B, INT8 ONNX ${int8.bytes.byteLength} B; metering INT8 and the float parent alternately in onnxruntime-node`);
      const q = await open(int8.bytes, float.inputShape);
      const p = await open(parentFloat.bytes, parentFloat.inputShape);
      try {
        const qRounds: InferenceMeasurement[] = [];
        const pRounds: InferenceMeasurement[] = [];
        for (let r = 0; r < Math.max(1, rounds); r++) {
          pRounds.push(await meterInference(ctx.meter, `${label}/onnx-float32-parent-infer-${r}`, p.runOnce, probe));
          qRounds.push(await meterInference(ctx.meter, `${label}/onnx-int8-infer-${r}`, q.runOnce, probe));
        }
        return {
          metrics: metricsOf(q.accuracy, int8.bytes, 'int8', combineRounds(qRounds)),
          parentFloat: metricsOf(p.accuracy, parentFloat.bytes, 'float32', combineRounds(pRounds)),
          detail: { ...int8.detail, calibrationSamples: calib.count, calibrationSplit: 'validation', floatOnnxBytes: float.bytes.byteLength, foldedBatchNorms: float.foldedBatchNorms },
        };
      } finally {
        await q.session.release();
        await p.session.release();
      }
    },
  };
}
