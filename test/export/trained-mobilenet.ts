import * as tf from '@tensorflow/tfjs';
import { createRng } from '../../src/core/index.js';
import { loadDataset, type Dataset } from '../../src/data/index.js';
import { initBackend } from '../../src/trainer/backend.js';
import { recalibrateBatchNorm } from '../../src/trainer/proxy-training.js';
import { mobilenetSpace } from '../../search-spaces/mobilenet/index.js';

/** An architecture that uses every layer kind the mobilenet space builds: expansion, both kernels, SE, residuals, strides. */
export const COVERING_ARCH = {
  width: 0.5,
  stages: [
    { layers: 1, expand: 1, kernel: 3, se: false, skip: 'none' },
    { layers: 2, expand: 3, kernel: 5, se: true, skip: 'residual' },
    { layers: 1, expand: 6, kernel: 3, se: true, skip: 'none' },
    { layers: 2, expand: 3, kernel: 3, se: false, skip: 'residual' },
    { layers: 1, expand: 3, kernel: 5, se: true, skip: 'none' },
  ],
};

/**
 * Sets every batch normalisation's scale, shift and moving statistics to seeded values away from
 * their initial 1/0, so that folding them into the convolutions is really exercised (a fresh layer's
 * statistics would make folding a no-op).
 */
export function randomizeBatchNorms(model: tf.LayersModel, seed = 1): number {
  const rng = createRng(seed);
  let count = 0;
  for (const layer of model.layers) {
    if (!/BatchNormalization$/.test(layer.getClassName())) continue;
    const values = layer.weights.map((w) => {
      const n = w.shape[0] as number;
      const short = w.originalName.slice(w.originalName.lastIndexOf('/') + 1);
      const v = Float32Array.from({ length: n }, () => {
        const u = rng.next();
        return short === 'gamma' ? 0.5 + u : short === 'beta' ? (u - 0.5) * 0.4 : short === 'moving_mean' ? (u - 0.5) * 0.6 : 0.3 + 1.5 * u;
      });
      return tf.tensor1d(v);
    });
    layer.setWeights(values);
    tf.dispose(values);
    count++;
  }
  return count;
}

/** Real Fashion-MNIST (Debian's files): the task, test images and a validation slice. */
export async function fashionMnist(): Promise<Dataset> {
  await initBackend('auto');
  return loadDataset('fashion-mnist', { seed: 1, trainSubset: 512, validationSize: 300 });
}

/**
 * Solves (A + λI) w = b for a small dense symmetric positive definite A by Gaussian elimination
 * (the normal equations of the linear head below; at most a few dozen unknowns).
 */
function solveRidge(a: Float64Array, b: Float64Array, d: number, k: number, lambda: number): Float64Array {
  const m = Float64Array.from(a);
  const r = Float64Array.from(b);
  for (let i = 0; i < d; i++) m[i * d + i] = (m[i * d + i] as number) + lambda;
  for (let p = 0; p < d; p++) {
    const piv = m[p * d + p] as number;
    for (let i = p + 1; i < d; i++) {
      const f = (m[i * d + p] as number) / piv;
      if (f === 0) continue;
      for (let j = p; j < d; j++) m[i * d + j] = (m[i * d + j] as number) - f * (m[p * d + j] as number);
      for (let c = 0; c < k; c++) r[i * k + c] = (r[i * k + c] as number) - f * (r[p * k + c] as number);
    }
  }
  for (let p = d - 1; p >= 0; p--) {
    for (let c = 0; c < k; c++) {
      let s = r[p * k + c] as number;
      for (let j = p + 1; j < d; j++) s -= (m[p * d + j] as number) * (r[j * k + c] as number);
      r[p * k + c] = s / (m[p * d + p] as number);
    }
  }
  return r;
}

/**
 * The covering mobilenet, built from a seed, with random batch-norm scales and shifts, moving
 * statistics recalibrated on real images, and a classifier
 * head fitted in closed form (ridge regression on the pooled features of the training slice), so
 * its predictions vary with the image as a trained net's do, without seconds of training per test run.
 */
export function coveringMobilenet(data: Dataset): tf.LayersModel {
  const model = mobilenetSpace.build(mobilenetSpace.validate(COVERING_ARCH), data.task, { seed: 1 });
  randomizeBatchNorms(model);
  // Moving statistics of real images (as the trainer's recalibration sets them), so activations stay in range.
  recalibrateBatchNorm(model, data.train, data.task.inputShape, 256);
  const pool = model.getLayer('pool');
  const head = model.getLayer('logits');
  const features = tf.model({ inputs: model.inputs, outputs: pool.output as tf.SymbolicTensor });
  const { x, n } = imagesOf(data.train, 0, data.train.count);
  const f = tf.tidy(() => (features.predict(tf.tensor(x, [n, ...data.task.inputShape])) as tf.Tensor).dataSync() as Float32Array);
  const c = f.length / n;
  const k = data.task.numClasses;
  const d = c + 1;
  const ata = new Float64Array(d * d);
  const atb = new Float64Array(d * k);
  for (let s = 0; s < n; s++) {
    const row = [...f.subarray(s * c, (s + 1) * c), 1];
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < d; j++) ata[i * d + j] = (ata[i * d + j] as number) + (row[i] as number) * (row[j] as number);
      atb[i * k + (data.train.y[s] as number)] = (atb[i * k + (data.train.y[s] as number)] as number) + (row[i] as number);
    }
  }
  const w = solveRidge(ata, atb, d, k, 1e-2 * n);
  const kernel = tf.tensor2d(Float32Array.from(w.subarray(0, c * k)), [c, k]);
  const bias = tf.tensor1d(Float32Array.from(w.subarray(c * k)));
  head.setWeights([kernel, bias]);
  tf.dispose([kernel, bias]);
  return model;
}

/** `count` images of a split from `start`, scaled to [0, 1] as the trainer feeds them. */
export function imagesOf(split: Dataset['test'], start: number, count: number): { x: Float32Array; n: number } {
  const n = Math.min(count, split.count - start);
  const x = new Float32Array(n * split.sampleSize);
  for (let i = 0; i < x.length; i++) x[i] = (split.x[start * split.sampleSize + i] as number) / 255;
  return { x, n };
}
