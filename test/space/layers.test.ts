import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ClassToken, FirstToken, MultiHeadSelfAttention, PositionEmbedding } from '../../src/space/layers/index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

type Matrix = number[][];

function matmul(a: Matrix, b: Matrix): Matrix {
  return a.map((row) => b[0]!.map((_, j) => row.reduce((s, v, k) => s + v * b[k]![j]!, 0)));
}

/** Textbook multi-head attention in plain arrays: the reference the layer must match. */
function referenceAttention(x: Matrix, inKernel: Matrix, inBias: number[], outKernel: Matrix, outBias: number[], heads: number): Matrix {
  const d = x[0]!.length;
  const dh = d / heads;
  const qkv = matmul(x, inKernel).map((row) => row.map((v, j) => v + inBias[j]!));
  const merged: Matrix = x.map(() => []);
  for (let h = 0; h < heads; h++) {
    const cols = (block: number) => qkv.map((row) => row.slice(block * d + h * dh, block * d + (h + 1) * dh));
    const [q, k, v] = [cols(0), cols(1), cols(2)];
    q.forEach((qi, i) => {
      const scores = k.map((kj) => qi.reduce((s, a, c) => s + a * kj[c]!, 0) / Math.sqrt(dh));
      const m = Math.max(...scores);
      const e = scores.map((s) => Math.exp(s - m));
      const z = e.reduce((a, b) => a + b, 0);
      const ctx = Array.from({ length: dh }, (_, c) => e.reduce((s, w, j) => s + (w / z) * v[j]![c]!, 0));
      merged[i]!.push(...ctx);
    });
  }
  return matmul(merged, outKernel).map((row) => row.map((v, j) => v + outBias[j]!));
}

describe('MultiHeadSelfAttention', () => {
  it('matches textbook multi-head attention for 1, 2 and 4 heads', () => {
    for (const heads of [1, 2, 4]) {
      const input = tf.input({ shape: [3, 8] });
      const layer = new MultiHeadSelfAttention({ numHeads: heads, seed: heads });
      const model = tf.model({ inputs: input, outputs: layer.apply(input) as tf.SymbolicTensor });
      // Non-zero biases so their placement is checked too.
      const [inKernel, , outKernel] = layer.getWeights();
      const inBias = tf.randomNormal([24], 0, 1, 'float32', 1);
      const outBias = tf.randomNormal([8], 0, 1, 'float32', 2);
      layer.setWeights([inKernel!, inBias, outKernel!, outBias]);
      const x = tf.randomNormal([1, 3, 8], 0, 1, 'float32', 3);
      const y = model.predict(x) as tf.Tensor;
      const expected = referenceAttention(
        (x.arraySync() as Matrix[])[0]!,
        inKernel!.arraySync() as Matrix,
        inBias.arraySync() as number[],
        outKernel!.arraySync() as Matrix,
        outBias.arraySync() as number[],
        heads,
      );
      const got = (y.arraySync() as Matrix[])[0]!;
      got.forEach((row, i) => row.forEach((v, j) => expect(v).toBeCloseTo(expected[i]![j]!, 4)));
      tf.dispose([inBias, outBias, x, y]);
      model.dispose();
    }
  });

  it('refuses a width the heads do not divide', () => {
    const input = tf.input({ shape: [3, 6] });
    expect(() => new MultiHeadSelfAttention({ numHeads: 4 }).apply(input)).toThrow(/width 6 is not divisible by 4 heads/);
    expect(() => new MultiHeadSelfAttention({ numHeads: 0 })).toThrow(/positive integer/);
  });
});

describe('token layers', () => {
  it('prepends a class token, adds positions over the longer sequence and takes the first token back', () => {
    const input = tf.input({ shape: [4, 6] });
    const cls = new ClassToken({ seed: 1 });
    const withCls = cls.apply(input) as tf.SymbolicTensor;
    expect(withCls.shape).toEqual([null, 5, 6]);
    const positions = new PositionEmbedding({ seed: 2 });
    const first = new FirstToken().apply(positions.apply(withCls) as tf.SymbolicTensor) as tf.SymbolicTensor;
    expect(first.shape).toEqual([null, 6]);
    const model = tf.model({ inputs: input, outputs: first });
    const x = tf.randomNormal([2, 4, 6], 0, 1, 'float32', 4);
    const y = model.predict(x) as tf.Tensor;
    // The first position is the class token plus position 0, whatever the input.
    const token = cls.getWeights()[0]!.reshape([6]);
    const pos0 = positions.getWeights()[0]!.slice([0, 0], [1, 6]).reshape([6]);
    const expected = token.add(pos0);
    for (const row of y.arraySync() as number[][]) row.forEach((v, j) => expect(v).toBeCloseTo(expected.dataSync()[j]!, 6));
    tf.dispose([x, y, token, pos0, expected]);
    model.dispose();
  });
});
