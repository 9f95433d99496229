import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ClassToken, FirstToken, MaskedGlobalPooling, MultiHeadSelfAttention, PaddingMask, PositionEmbedding } from '../../src/space/layers/index.js';

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

  it('with a mask, a query attends only to kept keys: equal to attention over the kept prefix', () => {
    const input = tf.input({ shape: [4, 8] });
    const maskIn = tf.input({ shape: [4] });
    const layer = new MultiHeadSelfAttention({ numHeads: 2, seed: 3 });
    const model = tf.model({ inputs: [input, maskIn], outputs: layer.apply([input, maskIn]) as tf.SymbolicTensor });
    const [inKernel, inBias, outKernel, outBias] = layer.getWeights().map((w) => w.arraySync());
    const x = tf.randomNormal([1, 4, 8], 0, 1, 'float32', 6);
    const mask = tf.tensor2d([[1, 1, 0, 0]]);
    const y = model.predict([x, mask]) as tf.Tensor;
    const rows = (x.arraySync() as Matrix[])[0]!;
    const expected = referenceAttention(rows.slice(0, 2), inKernel as Matrix, inBias as number[], outKernel as Matrix, outBias as number[], 2);
    const got = (y.arraySync() as Matrix[])[0]!;
    for (let i = 0; i < 2; i++) got[i]!.forEach((v, j) => expect(v).toBeCloseTo(expected[i]![j]!, 4));
    tf.dispose([x, mask, y]);
    model.dispose();
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

describe('padding mask and masked pooling', () => {
  it('marks id 0 as padding, with an optional leading class-token slot', () => {
    const tokens = tf.tensor2d([[5, 0, 7], [0, 0, 0]], [2, 3], 'int32');
    const plain = new PaddingMask().apply(tokens) as tf.Tensor;
    const withCls = new PaddingMask({ prependClass: true }).apply(tokens) as tf.Tensor;
    expect(plain.arraySync()).toEqual([[1, 0, 1], [0, 0, 0]]);
    expect(withCls.arraySync()).toEqual([[1, 1, 0, 1], [1, 0, 0, 0]]);
    tf.dispose([tokens, plain, withCls]);
  });

  it('pools mean and max over kept positions only, and an all-padding row to zeros', () => {
    const x = tf.tensor3d([[[1, 10], [3, -2], [100, 100]], [[1, 2], [3, 4], [5, 6]]]);
    const mask = tf.tensor2d([[1, 1, 0], [0, 0, 0]]);
    const mean = new MaskedGlobalPooling({ mode: 'mean' }).apply([x, mask]) as tf.Tensor;
    const max = new MaskedGlobalPooling({ mode: 'max' }).apply([x, mask]) as tf.Tensor;
    // `+ 0` folds -0 into 0: a zeroed row may come out as -0.
    const plain = (t: tf.Tensor) => (t.arraySync() as number[][]).map((r) => r.map((v) => v + 0));
    expect(plain(mean)).toEqual([[2, 4], [0, 0]]);
    expect(plain(max)).toEqual([[3, 10], [0, 0]]);
    expect(() => new MaskedGlobalPooling({ mode: 'sum' as 'mean' })).toThrow(/mean or max/);
    tf.dispose([x, mask, mean, max]);
  });
});
