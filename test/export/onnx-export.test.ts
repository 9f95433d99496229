import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { GreennasError } from '../../src/core/index.js';
import { DEBIAN_FASHION_MNIST_DIR, type Dataset } from '../../src/data/index.js';
import { compareLogits, ONNX_LOGIT_TOLERANCE, ONNX_MIN_AGREEMENT } from '../../src/export/index.js';
import {
  decodeOnnx, layersModelToOnnx, onnxOpCounts, openOnnxSession, predictOnnx, probeOnnxLatency, quantizeOnnxInt8,
} from '../../src/trainer/index.js';
import { FusedBatchNormalization, Relu6 } from '../../src/space/layers/index.js';
import { coveringMobilenet, fashionMnist, imagesOf, randomizeBatchNorms } from './trained-mobilenet.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'greennas-onnx-'));

/** Whether Debian's python3-onnx is there to run ONNX's own checker. */
const pythonOnnx = (() => {
  if (!existsSync('/usr/bin/python3')) return false;
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import onnx'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

function onnxChecker(bytes: Uint8Array): string {
  const file = join(tmp(), 'm.onnx');
  writeFileSync(file, bytes);
  return execFileSync('/usr/bin/python3', ['-c', [
    'import sys, onnx',
    'm = onnx.load(sys.argv[1])',
    'onnx.checker.check_model(m, full_check=True)',
    'print("ok", m.ir_version, [(o.domain, o.version) for o in m.opset_import])',
  ].join('\n'), file], { encoding: 'utf8' }).trim();
}

function tfjsLogits(model: tf.LayersModel, x: Float32Array, n: number, shape: readonly number[]): Float32Array {
  return tf.tidy(() => (model.predict(tf.tensor(x, [n, ...shape])) as tf.Tensor).dataSync() as Float32Array);
}

/** Test images for agreement; a unit-test slice of the 10 000 (bench/onnx-export.ts runs the whole test set). */
const AGREEMENT_SAMPLES = 500;

describe.runIf(existsSync(join(DEBIAN_FASHION_MNIST_DIR, 't10k-images-idx3-ubyte.gz')))('ONNX export of the mobilenet space (real Fashion-MNIST)', () => {
  let data: Dataset;
  let model: tf.LayersModel;
  let fp32: ReturnType<typeof layersModelToOnnx>;
  let images: { x: Float32Array; n: number };
  let tfLogits: Float32Array;
  let fpLogits: Float32Array;

  beforeAll(async () => {
    data = await fashionMnist();
    model = coveringMobilenet(data);
    images = imagesOf(data.test, 0, AGREEMENT_SAMPLES);
    const before = tf.memory().numTensors;
    fp32 = layersModelToOnnx(model, { metadata: { 'greennas.trial': '1' } });
    expect(tf.memory().numTensors).toBe(before);
    tfLogits = tfjsLogits(model, images.x, images.n, data.task.inputShape);
    fpLogits = await predictOnnx(fp32.bytes, images.x, fp32.inputShape, images.n);
  }, 120_000);
  afterAll(() => model?.dispose());

  it('gives the same top-1 and logits within tolerance as tfjs, with every batch norm folded', () => {
    const cmp = compareLogits(tfLogits, fpLogits, images.n, data.test.y.subarray(0, images.n));
    console.log(`FP32 ONNX vs tfjs on ${images.n} test images: top-1 agreement ${cmp.agreement}, max |logit diff| ${cmp.maxAbsDiff.toExponential(2)}`);
    expect(cmp.agreement).toBeGreaterThanOrEqual(ONNX_MIN_AGREEMENT);
    expect(cmp.maxAbsDiff).toBeLessThanOrEqual(ONNX_LOGIT_TOLERANCE);
    const bns = model.layers.filter((l) => ['BatchNormalization', 'GreennasFusedBatchNormalization'].includes(l.getClassName())).length;
    expect(bns).toBeGreaterThan(10);
    expect(fp32.foldedBatchNorms).toBe(bns);
    const ops = onnxOpCounts(fp32.bytes);
    expect(ops['BatchNormalization']).toBeUndefined();
    expect(ops['Conv']).toBeGreaterThan(10);
    expect(ops['Clip']).toBeGreaterThan(5);
    // Squeeze-and-excitation gates stay 4-D (pool, 1×1 convs, multiply): the classifier is the only Gemm and Flatten.
    expect(model.layers.some((l) => l.name.endsWith('_se_gate'))).toBe(true);
    expect(ops['Gemm']).toBe(1);
    expect(ops['Flatten']).toBe(1);
    expect(ops['Reshape']).toBeUndefined();
    // Depthwise convolutions are grouped Convs with one group per channel.
    const grouped = fp32.model.graph.node.filter((n) => n.op_type === 'Conv' && Number(n.attribute?.find((a) => a.name === 'group')?.i ?? 1) > 1);
    expect(grouped.length).toBe(model.layers.filter((l) => l.getClassName() === 'DepthwiseConv2D').length);
    const decoded = decodeOnnx(fp32.bytes);
    expect(decoded.ir_version).toBe(8);
    expect(decoded.opset_import).toEqual([{ domain: '', version: 13 }]);
    expect(decoded.metadata_props).toContainEqual({ key: 'greennas.trial', value: '1' });
  });

  it.runIf(pythonOnnx)("passes ONNX's own checker with full_check (FP32 and INT8)", async () => {
    expect(onnxChecker(fp32.bytes)).toMatch(/^ok 8 \[\('', 13\)\]/);
    const cal = imagesOf(data.validation, 0, 64);
    const q = await quantizeOnnxInt8(fp32.bytes, { input: cal.x, count: cal.n });
    expect(onnxChecker(q.bytes)).toMatch(/^ok 8/);
  }, 60_000);

  it('quantizes to INT8 that ONNX Runtime runs on integer kernels, and measures it on real test images', async () => {
    const cal = imagesOf(data.validation, 0, 256);
    const q = await quantizeOnnxInt8(fp32.bytes, { input: cal.x, count: cal.n });
    expect(q.detail.quantizedOps).toBe(onnxOpCounts(fp32.bytes)['Conv']! + (onnxOpCounts(fp32.bytes)['Gemm'] ?? 0));
    const stored = onnxOpCounts(q.bytes);
    expect(stored['DequantizeLinear']).toBeGreaterThan(q.detail.quantizedOps);
    // Every weight matrix is stored as int8; no float weight matrix is left.
    const init = q.model.graph.initializer;
    expect(init.filter((t) => t.data_type === 3 && t.dims.length >= 2)).toHaveLength(q.detail.quantizedOps);
    expect(init.filter((t) => t.data_type === 1 && t.dims.length >= 2)).toHaveLength(0);
    const dir = tmp();
    const optimized = join(dir, 'optimized.onnx');
    const session = await openOnnxSession(q.bytes, { optimizedModelFilePath: optimized });
    await session.release();
    const ops = onnxOpCounts(new Uint8Array(readFileSync(optimized)));
    console.log('INT8 graph after ONNX Runtime optimisation:', JSON.stringify(ops));
    expect(ops['QLinearConv']).toBe(onnxOpCounts(fp32.bytes)['Conv']);
    for (const floatOp of ['Conv', 'FusedConv', 'Gemm', 'FusedGemm', 'MatMul']) expect(ops[floatOp]).toBeUndefined();
    const qLogits = await predictOnnx(q.bytes, images.x, fp32.inputShape, images.n);
    const labels = data.test.y.subarray(0, images.n);
    const cmp = compareLogits(fpLogits, qLogits, images.n, labels);
    console.log(`INT8 vs FP32 on ${images.n} test images (random features, head fitted in closed form): top-1 agreement ${cmp.agreement}, accuracy ${cmp.accuracyB} vs ${cmp.accuracyA}`);
    expect(cmp.agreement).toBeGreaterThan(0.7);
    expect(Math.abs((cmp.accuracyB as number) - (cmp.accuracyA as number))).toBeLessThan(0.05);
    // INT8 is an approximation: logits move, but not beyond a few quantization steps of their range.
    expect(cmp.maxAbsDiff).toBeGreaterThan(0);
  }, 120_000);

  it('times a model in ONNX Runtime on one thread', async () => {
    const r = await probeOnnxLatency(fp32.bytes, fp32.inputShape, { batchSize: 2, warmupRuns: 1, timedRuns: 5 });
    expect(r.batchSize).toBe(2);
    expect(r.runsMs).toHaveLength(5);
    expect(r.medianMs).toBeGreaterThan(0);
    expect(r.medianMs).toBe([...r.runsMs].sort((a, b) => a - b)[2]);
  }, 60_000);
});

describe('ONNX export of other layers', () => {
  it('maps the fused batch norm (linear and ReLU6), Relu6, pooling, flatten and dense activations', async () => {
    const input = tf.input({ shape: [12, 12, 3], name: 'x' });
    let y = tf.layers.conv2d({ filters: 6, kernelSize: 3, strides: 2, padding: 'same', useBias: true, name: 'c1' }).apply(input) as tf.SymbolicTensor;
    y = new FusedBatchNormalization({ activation: 'relu6', name: 'fbn1' }).apply(y) as tf.SymbolicTensor;
    y = tf.layers.maxPooling2d({ poolSize: 2, padding: 'same', name: 'mp' }).apply(y) as tf.SymbolicTensor;
    const z = tf.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: 'valid', useBias: false, name: 'dw' }).apply(y) as tf.SymbolicTensor;
    let w = new FusedBatchNormalization({ name: 'fbn2' }).apply(z) as tf.SymbolicTensor;
    w = new Relu6({ name: 'r6' }).apply(w) as tf.SymbolicTensor;
    w = tf.layers.averagePooling2d({ poolSize: 1, name: 'ap' }).apply(w) as tf.SymbolicTensor;
    w = tf.layers.flatten({ name: 'flat' }).apply(w) as tf.SymbolicTensor;
    w = tf.layers.batchNormalization({ name: 'bn_dense' }).apply(w) as tf.SymbolicTensor;
    w = tf.layers.dropout({ rate: 0.3, name: 'drop' }).apply(w) as tf.SymbolicTensor;
    w = tf.layers.dense({ units: 7, activation: 'tanh', name: 'd1' }).apply(w) as tf.SymbolicTensor;
    w = tf.layers.activation({ activation: 'softmax', name: 'sm' }).apply(w) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: w });
    randomizeBatchNorms(model, 5);
    const n = 16;
    const x = Float32Array.from({ length: n * 12 * 12 * 3 }, (_, i) => Math.sin(i * 0.37) * 2);
    const ex = layersModelToOnnx(model);
    expect(ex.foldedBatchNorms).toBe(2);
    const cmp = compareLogits(tfjsLogits(model, x, n, [12, 12, 3]), await predictOnnx(ex.bytes, x, ex.inputShape, n), n);
    expect(cmp.agreement).toBe(1);
    expect(cmp.maxAbsDiff).toBeLessThan(1e-5);
    if (pythonOnnx) expect(onnxChecker(ex.bytes)).toMatch(/^ok/);
    model.dispose();
  }, 60_000);

  it('refuses a layer it cannot map, naming it and what it can map', () => {
    const input = tf.input({ shape: [5], name: 'tokens', dtype: 'float32' });
    const y = tf.layers.repeatVector({ n: 2, name: 'rep' }).apply(input) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: y });
    const err = (() => { try { layersModelToOnnx(model); } catch (e) { return e as GreennasError; } return undefined; })();
    expect(err).toBeInstanceOf(GreennasError);
    expect(err?.code).toBe('E_EXPORT_UNSUPPORTED');
    expect(err?.message).toMatch(/layer rep \(RepeatVector\) has no ONNX mapping; exported layer classes: InputLayer, Conv2D/);
    model.dispose();
  });
});
