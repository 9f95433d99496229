import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { distillationLoss, distillationLossValue, validateDistillation } from '../../src/compress/index.js';
import { UserError } from '../../src/core/index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const value = (t: tf.Tensor) => t.dataSync()[0] as number;

describe('distillation loss', () => {
  const s = tf.tensor2d([[2, 0.5, -1], [0, 1, 3]]);
  const t = tf.tensor2d([[1, 1, 0], [-2, 0, 4]]);
  const y = tf.tensor1d([0, 2], 'int32');

  it('is plain cross-entropy at α = 0 and T²·KL at α = 1', () => {
    const ce = value(tf.losses.softmaxCrossEntropy(tf.oneHot(y, 3), s));
    expect(value(distillationLossValue(s, t, y, 3, { temperature: 4, alpha: 0 }))).toBeCloseTo(ce, 6);
    // KL by hand, per row, averaged.
    const T = 2;
    const soft = (row: number[]) => {
      const e = row.map((v) => Math.exp(v / T));
      const z = e.reduce((a, b) => a + b, 0);
      return e.map((v) => v / z);
    };
    const rows = [[[2, 0.5, -1], [1, 1, 0]], [[0, 1, 3], [-2, 0, 4]]];
    const kl = rows.map(([sr, tr]) => {
      const p = soft(tr!);
      const q = soft(sr!);
      return p.reduce((a, pi, i) => a + pi * Math.log(pi / q[i]!), 0);
    }).reduce((a, b) => a + b, 0) / 2;
    expect(value(distillationLossValue(s, t, y, 3, { temperature: T, alpha: 1 }))).toBeCloseTo(T * T * kl, 5);
  });

  it('has no soft-target term when the student already matches the teacher', () => {
    const ce = value(tf.losses.softmaxCrossEntropy(tf.oneHot(y, 3), t));
    expect(value(distillationLossValue(t, t, y, 3, { temperature: 3, alpha: 0.7 }))).toBeCloseTo(0.3 * ce, 6);
  });

  it('takes the teacher logits from the teacher on the batch; the soft-target gradient is T·(softmax(s/T) − softmax(t/T)) / batch', () => {
    const input = tf.input({ shape: [2] });
    const teacher = tf.model({ inputs: input, outputs: tf.layers.dense({ units: 3, kernelInitializer: 'glorotUniform' }).apply(input) as tf.SymbolicTensor });
    const T = 2;
    const loss = distillationLoss(teacher, 3, { temperature: T, alpha: 1 });
    const x = tf.tensor2d([[1, 2], [3, 4]]);
    const grad = tf.grad((logits: tf.Tensor) => loss(logits, y, x))(s);
    const p = tf.softmax(tf.div(teacher.predict(x) as tf.Tensor, T));
    const q = tf.softmax(tf.div(s, T));
    const expected = tf.div(tf.mul(tf.sub(q, p), T), 2);
    expect(tf.max(tf.abs(tf.sub(grad, expected))).dataSync()[0]).toBeLessThan(1e-6);
    tf.dispose([grad, p, q, expected, x]);
    teacher.dispose();
  });

  it('rejects a non-positive temperature and α outside [0, 1]', () => {
    expect(() => validateDistillation({ temperature: 0, alpha: 0.5 })).toThrow(/--temperature/);
    expect(() => validateDistillation({ temperature: 2, alpha: 1.5 })).toThrow(UserError);
  });
});
