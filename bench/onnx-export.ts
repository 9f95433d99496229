/**
 * ONNX export of a trained mobilenet-space network, measured on the whole Fashion-MNIST test set:
 * FP32 ONNX vs tfjs (top-1 agreement, max |logit diff|, accuracy), INT8 (QDQ, ONNX Runtime integer
 * kernels) vs FP32 (agreement, accuracy), and latency per core of tfjs (the trainer's backend), ONNX
 * Runtime FP32 and ONNX Runtime INT8, measured in the same run, repeated, medians with ratios.
 * Run by hand: `npx tsc -p . && node dist/bench/onnx-export.js [--train-subset 2048] [--epochs 2]
 * [--calibration 256] [--repeats 3] [--batches 1,32] [--json]`. stdout: the results (JSON with --json); progress on stderr.
 */
import { loadavg } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { loadDataset } from '../src/data/index.js';
import { compareLogits, layersModelToOnnx, predictOnnx, probeOnnxLatency, quantizeOnnxInt8 } from '../src/export/index.js';
import { initBackend } from '../src/trainer/backend.js';
import { median, probeLatency } from '../src/trainer/latency-probe.js';
import { proxyTrain } from '../src/trainer/proxy-training.js';
import { mobilenetSpace } from '../search-spaces/mobilenet/index.js';

const ARCH = {
  width: 0.5,
  stages: [
    { layers: 1, expand: 1, kernel: 3, se: false, skip: 'none' },
    { layers: 2, expand: 3, kernel: 5, se: true, skip: 'residual' },
    { layers: 1, expand: 6, kernel: 3, se: true, skip: 'none' },
    { layers: 2, expand: 3, kernel: 3, se: false, skip: 'residual' },
    { layers: 1, expand: 3, kernel: 5, se: true, skip: 'none' },
  ],
};

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? (process.argv[i + 1] as string) : fallback;
}

const log = (m: string) => process.stderr.write(`${m}\n`);

async function main(): Promise<void> {
  const trainSubset = Number(flag('train-subset', '2048'));
  const epochs = Number(flag('epochs', '2'));
  const calibrationCount = Number(flag('calibration', '256'));
  const repeats = Number(flag('repeats', '3'));
  const batches = flag('batches', '1,32').split(',').map(Number);
  const json = process.argv.includes('--json');
  const backend = await initBackend('auto');
  const data = await loadDataset('fashion-mnist', { seed: 1, trainSubset, validationSize: 1000 });
  const model = mobilenetSpace.build(mobilenetSpace.validate(ARCH), data.task, { seed: 1 });
  const t0 = performance.now();
  const trained = await proxyTrain(model, { train: data.train, validation: data.validation, inputShape: data.task.inputShape, numClasses: data.task.numClasses },
    { epochs, batchSize: 64, optimizer: 'adam', learningRate: 3e-3, seed: 1 });
  log(`trained on ${backend.name}: ${trained.steps} steps on ${data.train.count} images in ${((performance.now() - t0) / 1000).toFixed(1)} s, validation accuracy ${trained.valAccuracy.toFixed(4)}`);

  const onnx = layersModelToOnnx(model);
  const n = data.test.count;
  const size = data.test.sampleSize;
  const x = Float32Array.from(data.test.x.subarray(0, n * size), (v) => v / 255);
  const cal = Float32Array.from(data.validation.x.subarray(0, calibrationCount * size), (v) => v / 255);
  const q = await quantizeOnnxInt8(onnx.bytes, { input: cal, count: Math.min(calibrationCount, data.validation.count) });
  const tfLogits = new Float32Array(n * data.task.numClasses);
  for (let s = 0; s < n; s += 500) {
    const m = Math.min(500, n - s);
    tfLogits.set(tf.tidy(() => (model.predict(tf.tensor(x.subarray(s * size, (s + m) * size), [m, ...data.task.inputShape])) as tf.Tensor).dataSync() as Float32Array), s * data.task.numClasses);
  }
  const fpLogits = await predictOnnx(onnx.bytes, x, onnx.inputShape, n);
  const qLogits = await predictOnnx(q.bytes, x, onnx.inputShape, n);
  const labels = data.test.y.subarray(0, n);
  const fp = compareLogits(tfLogits, fpLogits, n, labels);
  const int8 = compareLogits(fpLogits, qLogits, n, labels);

  const latency: Record<string, { tfjsMs: number; onnxFp32Ms: number; onnxInt8Ms: number; fp32SpeedupVsTfjs: number; int8SpeedupVsFp32: number }> = {};
  const loads: number[][] = [];
  for (const b of batches) {
    const runs = { tfjs: [] as number[], fp: [] as number[], q: [] as number[] };
    for (let r = 0; r < repeats; r++) {
      const input = tf.zeros([b, ...data.task.inputShape]);
      runs.tfjs.push(probeLatency(model, input, { batchSize: b, warmupRuns: 5, timedRuns: 30 }).medianMs);
      input.dispose();
      runs.fp.push((await probeOnnxLatency(onnx.bytes, onnx.inputShape, { batchSize: b, warmupRuns: 5, timedRuns: 30 })).medianMs);
      runs.q.push((await probeOnnxLatency(q.bytes, onnx.inputShape, { batchSize: b, warmupRuns: 5, timedRuns: 30 })).medianMs);
      loads.push(loadavg());
    }
    const [t, f, i] = [median(runs.tfjs), median(runs.fp), median(runs.q)];
    latency[`batch${b}`] = { tfjsMs: t, onnxFp32Ms: f, onnxInt8Ms: i, fp32SpeedupVsTfjs: t / f, int8SpeedupVsFp32: f / i };
  }
  model.dispose();
  const result = {
    arch: ARCH, tfjsBackend: backend.name, train: { images: data.train.count, epochs, steps: trained.steps, valAccuracy: trained.valAccuracy },
    testImages: n,
    fp32VsTfjs: { top1Agreement: fp.agreement, maxAbsLogitDiff: fp.maxAbsDiff, accuracyTfjs: fp.accuracyA, accuracyOnnx: fp.accuracyB },
    int8VsFp32: { top1Agreement: int8.agreement, maxAbsLogitDiff: int8.maxAbsDiff, accuracyFp32: int8.accuracyA, accuracyInt8: int8.accuracyB, calibrationImages: q.detail.calibrationSamples },
    bytes: { fp32: onnx.bytes.length, int8: q.bytes.length },
    latency, repeats, loadavg1m: loads.map((l) => l[0]),
  };
  if (json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
