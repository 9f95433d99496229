import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/trainer/backend.js';
import { buildModelA, buildModelB, countTrainableParams, MODEL_A_PARAMS, MODEL_B_PARAMS } from '../../src/trainer/reference-models.js';
import { createTrainStep } from '../../src/trainer/train-step.js';

beforeAll(async () => {
  await initBackend('wasm');
});

describe('reference models', () => {
  it('have the parameter counts the benchmark defines', () => {
    const a = buildModelA();
    const b = buildModelB();
    expect(countTrainableParams(a)).toBe(MODEL_A_PARAMS);
    expect(countTrainableParams(b)).toBe(MODEL_B_PARAMS);
    expect(a.outputs[0]!.shape).toEqual([null, 10]);
    expect(b.outputs[0]!.shape).toEqual([null, 2]);
    a.dispose();
    b.dispose();
  });

  it('model A trains on wasm with a flat tensor count over 100 steps and a falling loss', () => {
    const model = buildModelA({ seed: 3 });
    const step = createTrainStep(model, tf.train.sgd(0.05), 10);
    const x = tf.randomUniform([2, 28, 28, 1], 0, 1, 'float32', 1);
    const y = tf.tensor1d([0, 1], 'int32');
    const first = step(x, y, { readLoss: true })!;
    const before = tf.memory().numTensors;
    let last = first;
    for (let i = 0; i < 100; i++) last = step(x, y, { readLoss: i === 99 }) ?? last;
    expect(tf.memory().numTensors).toBe(before);
    expect(last).toBeLessThan(first);
    tf.dispose([x, y]);
    model.dispose();
  }, 60_000);

  it('model B trains on wasm with Adam with a flat tensor count over 30 steps and a falling loss', () => {
    const model = buildModelB();
    const step = createTrainStep(model, tf.train.adam(1e-3), 2);
    const x = tf.randomUniform([2, 64], 0, 5000, 'int32', 2);
    const y = tf.tensor1d([0, 1], 'int32');
    const first = step(x, y, { readLoss: true })!;
    const before = tf.memory().numTensors;
    let last = first;
    for (let i = 0; i < 30; i++) last = step(x, y, { readLoss: i === 29 }) ?? last;
    expect(tf.memory().numTensors).toBe(before);
    expect(last).toBeLessThan(first);
    tf.dispose([x, y]);
    model.dispose();
  }, 60_000);
});
