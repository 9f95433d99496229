import type * as tf from '@tensorflow/tfjs';
import type { Logger, MetricValue } from '../core/index.js';
import { DEFAULT_INFERENCE_PROBE, inferenceMetrics, meterInference, type InferenceProbe } from '../compress/measure.js';
import type { Int8Runtime } from '../compress/pipeline.js';
import { iterateBatches, type DataSplit } from '../data/index.js';
import type { EnergyMeter } from '../energy/index.js';
import { INT8_CALIBRATION_SAMPLES, layersModelToOnnx, openOnnxSession, quantizeOnnxInt8, runOnnxBatched } from '../export/index.js';

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
 * split), and both models measured alike in onnxruntime-node's CPU provider on one thread: test
 * accuracy, size, batch-1 latency and energy per inference on the caller's meter (one window around
 * the timed runs). A float model measured the same way is the like-for-like reference for INT8.
 */
export function onnxInt8Runtime(ctx: { meter: EnergyMeter; test: DataSplit; probe?: InferenceProbe; logger: Logger }): Int8Runtime {
  const measure = async (bytes: Uint8Array, sampleShape: readonly number[], weights: string, label: string): Promise<MetricValue[]> => {
    const session = await openOnnxSession(bytes, { intraOpNumThreads: 1 });
    try {
      const test = splitInput(ctx.test, ctx.test.count);
      const name = session.outputNames[0] as string;
      const parts = (await runOnnxBatched(session, test.input, sampleShape, test.count, { outputNames: [name] })).get(name) ?? [];
      let correct = 0;
      const all = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
      let o = 0;
      for (const p of parts) { all.set(p, o); o += p.length; }
      const k = test.count ? all.length / test.count : 0;
      for (let row = 0; row < test.count; row++) {
        let best = 0;
        for (let c = 1; c < k; c++) if ((all[row * k + c] as number) > (all[row * k + best] as number)) best = c;
        if (best === ctx.test.y[row]) correct++;
      }
      const ort = await import('onnxruntime-node');
      const sampleSize = sampleShape.reduce((a, b) => a * b, 1);
      const one = new ort.Tensor('float32', test.input.slice(0, sampleSize), [1, ...sampleShape]);
      const inputName = session.inputNames[0] as string;
      const inference = await meterInference(ctx.meter, label, async () => {
        const out = await session.run({ [inputName]: one });
        for (const t of Object.values(out)) t.dispose();
      }, ctx.probe ?? DEFAULT_INFERENCE_PROBE);
      const where = { runtime: 'onnxruntime-node', provider: 'cpu', intraOpThreads: 1, warmupRuns: (ctx.probe ?? DEFAULT_INFERENCE_PROBE).warmupRuns };
      return [
        { name: 'accuracy', value: test.count ? correct / test.count : Number.NaN, unit: 'fraction', source: 'measured', detail: { split: 'test', samples: test.count, runtime: 'onnxruntime-node' } },
        { name: 'size.bytes', value: bytes.byteLength, unit: 'B', source: 'computed', detail: { format: 'onnx', weights } },
        ...inferenceMetrics(inference, where),
      ];
    } finally {
      await session.release();
    }
  };
  return {
    async measureFloat(model: tf.LayersModel, label: string) {
      const float = layersModelToOnnx(model);
      return measure(float.bytes, float.inputShape, 'float32', `${label}/onnx-float32-infer`);
    },
    async quantizeAndMeasure(model: tf.LayersModel, calibration: DataSplit, label: string) {
      const float = layersModelToOnnx(model);
      const calib = splitInput(calibration, INT8_CALIBRATION_SAMPLES);
      const int8 = await quantizeOnnxInt8(float.bytes, calib);
      ctx.logger.info(`${label}: float ONNX ${float.bytes.byteLength} B, INT8 ONNX ${int8.bytes.byteLength} B`);
      const metrics = await measure(int8.bytes, float.inputShape, 'int8', `${label}/onnx-int8-infer`);
      return { metrics, detail: { ...int8.detail, calibrationSamples: calib.count, calibrationSplit: 'validation', floatOnnxBytes: float.bytes.byteLength, foldedBatchNorms: float.foldedBatchNorms } };
    },
  };
}
