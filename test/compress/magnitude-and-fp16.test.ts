import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  artifactSizeBytes, countNonzeroParams, countZeroKernelWeights, fineTune, float16Artifact, float16Bits, float16Value, pruneMagnitude, roundWeightsToFloat16,
} from '../../src/compress/index.js';
import type { DataSplit } from '../../src/data/index.js';
import { loadModelArtifact, saveModelArtifact } from '../../src/trainer/model-artifacts.js';

function denseNet(seed: number): tf.LayersModel {
  const input = tf.input({ shape: [12] });
  const h = tf.layers.dense({ units: 16, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed }) }).apply(input) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 3, kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }) }).apply(h) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}

/** A learnable toy split: the class is which third of the 12 features holds the largest sum. */
function toySplit(n: number, seed: number): DataSplit {
  const x = new Uint8Array(n * 12);
  const y = new Int32Array(n);
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let i = 0; i < n; i++) {
    const c = i % 3;
    y[i] = c;
    for (let j = 0; j < 12; j++) x[i * 12 + j] = Math.floor(rnd() * 100) + (Math.floor(j / 4) === c ? 120 : 0);
  }
  return { x, y, count: n, sampleSize: 12, sourceIndex: Int32Array.from({ length: n }, (_, i) => i) };
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('pruneMagnitude', () => {
  it('zeroes the requested fraction of kernel weights globally and reports it', () => {
    const m = denseNet(1);
    const r = pruneMagnitude(m, 0.6);
    try {
      expect(r.kernelWeights).toBe(12 * 16 + 16 * 3);
      expect(r.zeroWeights).toBe(Math.floor(0.6 * r.kernelWeights));
      expect(r.actualSparsity).toBeCloseTo(0.6, 2);
      expect(countZeroKernelWeights(r.model).zero).toBe(r.zeroWeights);
      // The parent is untouched; the pruned copy keeps its biases (zero-initialised here) and the largest weights.
      expect(countZeroKernelWeights(m).zero).toBe(0);
      expect(countNonzeroParams(r.model)).toBe(r.kernelWeights - r.zeroWeights);
      const kept = (r.model.layers[1]!.getWeights()[0]!.dataSync() as Float32Array).filter((v) => v !== 0).map(Math.abs);
      const cut = (m.layers[1]!.getWeights()[0]!.dataSync() as Float32Array).map(Math.abs).sort();
      expect(Math.min(...kept)).toBeGreaterThanOrEqual(cut[Math.floor(0.6 * cut.length) - 1]! * 0.5);
    } finally {
      r.masks.dispose();
      r.model.dispose();
      m.dispose();
    }
  });

  it('keeps the zeros zero through fine-tuning, which still learns', async () => {
    const m = denseNet(2);
    const r = pruneMagnitude(m, 0.5);
    const data = { train: toySplit(240, 1), validation: toySplit(60, 2), inputShape: [12], numClasses: 3 };
    const before = tf.memory().numTensors;
    try {
      const result = await fineTune(r.model, data, { epochs: 3, batchSize: 16, optimizer: 'adam', learningRate: 0.01, seed: 1 }, { masks: r.masks });
      expect(countZeroKernelWeights(r.model).zero).toBeGreaterThanOrEqual(r.zeroWeights);
      for (const { variable, mask } of r.masks.entries) {
        const zeroWhereMasked = tf.tidy(() => tf.sum(tf.abs(tf.mul(variable.read(), tf.sub(1, mask)))).dataSync()[0]);
        expect(zeroWhereMasked).toBe(0);
      }
      expect(result.valAccuracy).toBeGreaterThan(0.6);
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      r.masks.dispose();
      r.model.dispose();
      m.dispose();
    }
  });
});

describe('float16', () => {
  it('rounds to nearest even and covers normal, subnormal and overflow cases', () => {
    expect(float16Bits(1)).toBe(0x3c00);
    expect(float16Bits(-2)).toBe(0xc000);
    expect(float16Bits(65504)).toBe(0x7bff);
    expect(float16Bits(65520)).toBe(0x7c00); // rounds up past the largest finite half
    expect(float16Bits(0.1)).toBe(0x2e66);
    expect(float16Bits(2 ** -24)).toBe(0x0001);
    expect(float16Bits(2 ** -26)).toBe(0);
    expect(float16Bits(1 + 2 ** -11)).toBe(0x3c00); // a tie goes to the even mantissa
    expect(float16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(Number.isNaN(float16Value(float16Bits(Number.NaN)))).toBe(true);
    for (const v of [1, -2, 65504, 2 ** -24, 0.5, 3.140625]) expect(float16Value(float16Bits(v))).toBe(v);
  });

  it('stores float16 weights in half the bytes, and tfjs loads back exactly the rounded model', async () => {
    const m = denseNet(3);
    const rounded = roundWeightsToFloat16(m);
    try {
      const full = await saveModelArtifact(m);
      const half = float16Artifact(full);
      expect(half.weightData.byteLength).toBe(full.weightData.byteLength / 2);
      expect(artifactSizeBytes(half)).toBeLessThan(artifactSizeBytes(full));
      const loaded = await loadModelArtifact(half);
      const x = tf.randomUniform([5, 12], 0, 1, 'float32', 4);
      const [a, b, c] = [loaded.predict(x) as tf.Tensor, rounded.predict(x) as tf.Tensor, m.predict(x) as tf.Tensor];
      expect(tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0])).toBe(0);
      expect(tf.tidy(() => tf.max(tf.abs(tf.sub(a, c))).dataSync()[0])).toBeLessThan(1e-2);
      tf.dispose([a, b, c, x]);
      loaded.dispose();
    } finally {
      rounded.dispose();
      m.dispose();
    }
  });
});
