import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRng } from '../../src/core/index.js';
import { initBackend } from '../../src/trainer/backend.js';
import { ADAM_UPDATE, FusedAdamOptimizer } from '../../src/trainer/fused-adam.js';

beforeAll(async () => {
  await initBackend('wasm');
});

/** Trains variables of odd sizes for some steps with the same gradients; returns weights and moments. */
function run(makeOptimizer: () => tf.AdamOptimizer, steps: number): { weights: Float32Array[]; state: Float32Array[] } {
  const rng = createRng('adam');
  const shapes = [[3], [5, 7], [64, 3], [1]];
  const vars = shapes.map((s, i) => tf.tidy(() => tf.variable(tf.tensor(Float32Array.from({ length: s.reduce((p, q) => p * q, 1) }, () => rng.normal()), s), true, `adam_test_${i}_${Math.random()}`)));
  const opt = makeOptimizer();
  for (let step = 0; step < steps; step++) {
    const grads = vars.map((v) => ({ name: v.name, tensor: tf.tensor(Float32Array.from({ length: v.size }, () => rng.normal() * 0.1), v.shape) }));
    opt.applyGradients(grads);
    tf.dispose(grads.map((g) => g.tensor));
  }
  const weights = vars.map((v) => Float32Array.from(v.dataSync() as Float32Array));
  const first = (opt as unknown as { accumulatedFirstMoment: { variable: tf.Variable }[] }).accumulatedFirstMoment;
  const second = (opt as unknown as { accumulatedSecondMoment: { variable: tf.Variable }[] }).accumulatedSecondMoment;
  const state = [...first, ...second].map((s) => Float32Array.from(s.variable.dataSync() as Float32Array));
  opt.dispose();
  tf.dispose(vars);
  return { weights, state };
}

describe('FusedAdamOptimizer', () => {
  it('on wasm, one kernel per variable gives tfjs Adam\'s weights and moments bit for bit, holding no more tensors', () => {
    tf.setBackend('wasm');
    expect(tf.getKernel(ADAM_UPDATE, 'wasm')).toBeTruthy();
    // tfjs's Adam leaves one tensor behind after dispose(); the fused one must leave no more.
    const n0 = tf.memory().numTensors;
    const fused = run(() => new FusedAdamOptimizer(1e-3), 12);
    const n1 = tf.memory().numTensors;
    const stock = run(() => tf.train.adam(1e-3), 12);
    expect(n1 - n0).toBe(tf.memory().numTensors - n1);
    expect(fused.weights).toEqual(stock.weights);
    expect(fused.state).toEqual(stock.state);
    // The weights did move.
    const start = run(() => tf.train.adam(1e-3), 0);
    expect(fused.weights).not.toEqual(start.weights);
  });

  it('on a backend without the kernel, runs the stock update', () => {
    tf.setBackend('cpu');
    expect(tf.getKernel(ADAM_UPDATE, 'cpu')).toBeFalsy();
    const fused = run(() => new FusedAdamOptimizer(1e-2, 0.8, 0.99), 5);
    const stock = run(() => tf.train.adam(1e-2, 0.8, 0.99), 5);
    expect(fused.weights).toEqual(stock.weights);
    tf.setBackend('wasm');
  });
});
