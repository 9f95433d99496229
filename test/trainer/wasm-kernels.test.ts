import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRng, type Rng } from '../../src/core/index.js';
import { initBackend } from '../../src/trainer/backend.js';
import { batchNormTraining, layerNormalization, MASKED_SCORE, MultiHeadSelfAttention, SELF_ATTENTION } from '../../src/space/layers/index.js';

/**
 * Each wasm training kernel (and each fused op) against the cpu backend's stock kernels or stock
 * composition, over random shapes. Tolerance: max |wasm − cpu| ≤ 1e-4 · max(1, max |cpu|), float32
 * rounding of sums over a few hundred terms.
 */
const TOL = 1e-4;

type Backend = 'wasm' | 'cpu';
/** Runs `f` on a backend with plain-array inputs and returns plain-array outputs. */
function on(backend: Backend, f: () => tf.Tensor | tf.Tensor[]): Float32Array[] {
  tf.setBackend(backend);
  return tf.tidy(() => {
    const out = f();
    return (Array.isArray(out) ? out : [out]).map((t) => t.dataSync() as Float32Array);
  }).map((a) => Float32Array.from(a));
}

function expectClose(got: Float32Array[], want: Float32Array[], label: string): void {
  expect(got.length).toBe(want.length);
  got.forEach((g, i) => {
    const w = want[i]!;
    expect(g.length, label).toBe(w.length);
    let scale = 1;
    for (const v of w) scale = Math.max(scale, Math.abs(v));
    let err = 0;
    for (let j = 0; j < g.length; j++) err = Math.max(err, Math.abs(g[j]! - w[j]!));
    expect(err, `${label} output ${i}: max abs error ${err} at scale ${scale}`).toBeLessThanOrEqual(TOL * scale);
  });
}

const sizeOf = (shape: number[]) => shape.reduce((p, q) => p * q, 1);

function rand(rng: Rng, n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal();
  return a;
}

type Input = { values: Float32Array; shape: number[] };

/** `f`'s output and its gradients with respect to every input, under a seeded random upstream gradient. */
function valueAndGrads(backend: Backend, inputs: Input[], f: (...xs: tf.Tensor[]) => tf.Tensor, upstreamSeed: number): Float32Array[] {
  return on(backend, () => {
    const xs = inputs.map((i) => tf.tensor(i.values, i.shape));
    const y = f(...xs);
    const w = tf.tensor(rand(createRng(upstreamSeed), y.size), y.shape);
    return [y, ...tf.grads((...ys: tf.Tensor[]) => tf.sum(tf.mul(f(...ys), w)))(xs)];
  });
}

/** Compares the output and gradients of `f` with respect to all its inputs on both backends. */
function compareGrads(label: string, inputs: Input[], f: (...xs: tf.Tensor[]) => tf.Tensor, upstreamSeed: number): void {
  expectClose(valueAndGrads('wasm', inputs, f, upstreamSeed), valueAndGrads('cpu', inputs, f, upstreamSeed), label);
}

/** Depthwise filter and input gradients straight from the definition of the convolution (any dilation). */
function depthwiseGradsByDefinition(x: Input, f: Input,
  dyRng: Rng, stride: number, dilation: number, pad: 'same' | 'valid'): Float32Array[] {
  const [N, H, W, C] = x.shape as [number, number, number, number];
  const [KH, KW, , M] = f.shape as [number, number, number, number];
  const info = tf.backend_util.computeConv2DInfo([N, H, W, C], [KH, KW, C, M], [stride, stride], [dilation, dilation], pad, undefined, true);
  const { outHeight: OH, outWidth: OW } = info;
  const dy = rand(dyRng, N * OH * OW * C * M);
  const dW = new Float32Array(KH * KW * C * M);
  const dX = new Float32Array(N * H * W * C);
  for (let n = 0; n < N; n++) for (let oy = 0; oy < OH; oy++) for (let ox = 0; ox < OW; ox++) {
    for (let kh = 0; kh < KH; kh++) for (let kw = 0; kw < KW; kw++) {
      const iy = oy * stride + kh * dilation - info.padInfo.top;
      const ix = ox * stride + kw * dilation - info.padInfo.left;
      if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
      for (let c = 0; c < C; c++) for (let m = 0; m < M; m++) {
        const g = dy[((n * OH + oy) * OW + ox) * C * M + c * M + m]!;
        dW[((kh * KW + kw) * C + c) * M + m] += x.values[((n * H + iy) * W + ix) * C + c]! * g;
        dX[((n * H + iy) * W + ix) * C + c] += f.values[((kh * KW + kw) * C + c) * M + m]! * g;
      }
    }
  }
  return [dW, dX];
}

beforeAll(async () => {
  await initBackend('wasm');
});

describe('wasm training kernels vs cpu', () => {
  it('Conv2DBackpropFilter and 1×1 Conv2DBackpropInput over random convolutions', () => {
    const rng = createRng('conv2d');
    for (let trial = 0; trial < 24; trial++) {
      const n = 1 + rng.int(3);
      const h = 4 + rng.int(6);
      const w = 4 + rng.int(6);
      const cin = 1 + rng.int(5);
      const cout = 1 + rng.int(5);
      const k = rng.pick([1, 1, 2, 3]);
      const stride = rng.pick([1, 2]) as 1 | 2;
      const pad = rng.pick(['same', 'valid'] as const);
      const x = { values: rand(rng, n * h * w * cin), shape: [n, h, w, cin] };
      const filter = { values: rand(rng, k * k * cin * cout), shape: [k, k, cin, cout] };
      compareGrads(`conv2d n${n} ${h}x${w}x${cin}->${cout} k${k} s${stride} ${pad}`, [x, filter],
        (a, b) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, pad), trial);
    }
  });

  it('depthwise filter and input gradients over strides, padding, dilation and channel multipliers', () => {
    const rng = createRng('depthwise');
    for (let trial = 0; trial < 24; trial++) {
      const n = 1 + rng.int(3);
      const h = 5 + rng.int(6);
      const w = 5 + rng.int(6);
      const c = 1 + rng.int(5);
      const mult = rng.pick([1, 1, 2, 3]);
      const k = rng.pick([1, 2, 3]);
      const dilation = rng.pick([1, 1, 2]);
      // tfjs requires stride 1 when dilation > 1.
      const stride = dilation > 1 ? 1 : rng.pick([1, 2]);
      const pad = rng.pick(['same', 'valid'] as const);
      const x = { values: rand(rng, n * h * w * c), shape: [n, h, w, c] };
      const filter = { values: rand(rng, k * k * c * mult), shape: [k, k, c, mult] };
      const label = `depthwise n${n} ${h}x${w}x${c} m${mult} k${k} s${stride} d${dilation} ${pad}`;
      if (dilation === 1) {
        compareGrads(label, [x, filter], (a, b) => tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, pad), trial);
        continue;
      }
      // tfjs's gradient refuses dilation > 1 and the cpu kernels ignore dilation, so the wasm
      // kernels are checked against the definition of the convolution, summed directly.
      const attrs = { strides: [stride, stride], dilations: [dilation, dilation], pad, dimRoundingMode: undefined };
      const run = (backend: Backend) => on(backend, () => {
        const xt = tf.tensor4d(x.values, x.shape as [number, number, number, number]);
        const ft = tf.tensor4d(filter.values, filter.shape as [number, number, number, number]);
        const y = tf.depthwiseConv2d(xt, ft, stride, pad, 'NHWC', dilation);
        const dy = tf.tensor(rand(createRng(trial), y.size), y.shape);
        return [
          tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x: xt, dy }, { ...attrs, filterShape: filter.shape }) as tf.Tensor,
          tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy, filter: ft }, { ...attrs, inputShape: x.shape }) as tf.Tensor,
        ];
      });
      const got = run('wasm');
      expectClose(got, depthwiseGradsByDefinition(x, filter, createRng(trial), stride, dilation, pad), label);
    }
  });

  it('Identity shares data by reference: a clone outlives its source', () => {
    tf.setBackend('wasm');
    const before = tf.memory().numTensors;
    const a = tf.tensor1d([1, 2, 3]);
    const b = tf.clone(a);
    a.dispose();
    expect(Array.from(b.dataSync())).toEqual([1, 2, 3]);
    b.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('GatherV2 refuses an index out of range, as the stock kernel does', () => {
    tf.setBackend('wasm');
    const before = tf.memory().numTensors;
    expect(() => tf.tidy(() => tf.gather(tf.ones([3, 2]), tf.tensor1d([0, 3], 'int32')))).toThrow(/index value 3 is not in \[0, 2\]/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('UnsortedSegmentSum (embedding gradient) with repeated and missing ids', () => {
    const rng = createRng('segments');
    for (let trial = 0; trial < 8; trial++) {
      const vocab = 3 + rng.int(40);
      const width = 1 + rng.int(8);
      const count = 1 + rng.int(60);
      const ids = Int32Array.from({ length: count }, () => rng.int(vocab));
      const params = { values: rand(rng, vocab * width), shape: [vocab, width] };
      compareGrads(`gather vocab ${vocab} width ${width} ids ${count}`, [params],
        (p) => tf.gather(p!, tf.tensor1d(ids, 'int32')), trial);
      const gathered = (backend: Backend) => on(backend, () => tf.gather(tf.tensor(params.values, params.shape), tf.tensor2d(ids, [1, count], 'int32')));
      expectClose(gathered('wasm'), gathered('cpu'), 'gather forward');
      const got = on('wasm', () => tf.unsortedSegmentSum(tf.tensor2d(rand(createRng(trial), count * width), [count, width]),
        tf.tensor1d(ids, 'int32'), vocab));
      const want = on('cpu', () => tf.unsortedSegmentSum(tf.tensor2d(rand(createRng(trial), count * width), [count, width]),
        tf.tensor1d(ids, 'int32'), vocab));
      expectClose(got, want, 'unsortedSegmentSum');
    }
  });

  it('BatchMatMul with transposes, batches and broadcasting, forward and gradients', () => {
    const rng = createRng('matmul');
    for (let trial = 0; trial < 16; trial++) {
      const batch = rng.pick([[], [3], [2, 3]]);
      const m = 1 + rng.int(7);
      const kk = 1 + rng.int(7);
      const nn = 1 + rng.int(7);
      const ta = rng.next() < 0.5;
      const tb = rng.next() < 0.5;
      const bBatch = batch.length && rng.next() < 0.3 ? [] : batch;
      const a = { values: rand(rng, sizeOf([...batch, m, kk])), shape: [...batch, ...(ta ? [kk, m] : [m, kk])] };
      const b = { values: rand(rng, sizeOf([...bBatch, kk, nn])), shape: [...bBatch, ...(tb ? [nn, kk] : [kk, nn])] };
      if (bBatch.length !== batch.length) continue; // tfjs gradients need equal ranks
      compareGrads(`matmul ${a.shape}x${b.shape} ta${ta} tb${tb}`, [a, b], (p, q) => tf.matMul(p!, q!, ta, tb), trial);
      const fwd = (backend: Backend) => on(backend, () => tf.matMul(tf.tensor(a.values, a.shape), tf.tensor(b.values, b.shape), ta, tb));
      expectClose(fwd('wasm'), fwd('cpu'), 'matmul forward');
    }
  });

  it('BatchMatMul over sizes across the SIMD tiles (4 × 8) and blocks (256), odd sizes, broadcasting', () => {
    const rng = createRng('gemm');
    const sizes = [1, 3, 4, 5, 8, 9, 17, 33, 64, 70];
    for (let trial = 0; trial < 24; trial++) {
      const batch = rng.pick([[], [1], [2], [5]]);
      const m = rng.pick(sizes);
      // Some products span more than one 256-block of the shared or the output dimension.
      const kk = trial % 6 === 0 ? 257 + rng.int(300) : rng.pick(sizes);
      const nn = trial % 6 === 3 ? 257 + rng.int(40) : rng.pick(sizes);
      const ta = rng.next() < 0.5;
      const tb = rng.next() < 0.5;
      const broadcast = batch.length > 0 ? rng.pick(['none', 'a', 'b'] as const) : 'none';
      const aBatch = broadcast === 'a' ? [1] : batch;
      const bBatch = broadcast === 'b' ? [1] : batch;
      const a = { values: rand(rng, sizeOf([...aBatch, m, kk])), shape: [...aBatch, ...(ta ? [kk, m] : [m, kk])] };
      const b = { values: rand(rng, sizeOf([...bBatch, kk, nn])), shape: [...bBatch, ...(tb ? [nn, kk] : [kk, nn])] };
      const label = `matmul ${a.shape}x${b.shape} ta${ta} tb${tb}`;
      const fwd = (backend: Backend) => on(backend, () => tf.matMul(tf.tensor(a.values, a.shape), tf.tensor(b.values, b.shape), ta, tb));
      expectClose(fwd('wasm'), fwd('cpu'), label);
      if (broadcast === 'none') compareGrads(label, [a, b], (p, q) => tf.matMul(p!, q!, ta, tb), trial);
    }
  });

  it('fused matMul (with and without bias; linear, ReLU, ReLU6) forward', () => {
    const rng = createRng('fused-matmul');
    for (let trial = 0; trial < 16; trial++) {
      const m = 1 + rng.int(40);
      const kk = 1 + rng.int(40);
      const nn = 1 + rng.int(40);
      const batch = rng.pick([[], [], [3]]);
      const ta = rng.next() < 0.3;
      const tb = rng.next() < 0.3;
      const activation = rng.pick(['linear', 'relu', 'relu6'] as const);
      const withBias = rng.next() < 0.8;
      const a = rand(rng, sizeOf([...batch, m, kk]));
      const b = rand(rng, sizeOf([...batch, kk, nn]));
      const bias = rand(rng, nn);
      const run = (backend: Backend) => on(backend, () => tf.fused.matMul({
        a: tf.tensor(a, [...batch, ...(ta ? [kk, m] : [m, kk])]), b: tf.tensor(b, [...batch, ...(tb ? [nn, kk] : [kk, nn])]),
        transposeA: ta, transposeB: tb, bias: withBias ? tf.tensor1d(bias) : undefined, activation,
      }));
      expectClose(run('wasm'), run('cpu'), `fused matMul ${batch} ${m}x${kk}x${nn} ta${ta} tb${tb} ${activation}${withBias ? ' bias' : ''}`);
    }
  });

  it('Sum, Mean, Transpose and Unstack over random axes', () => {
    const rng = createRng('reduce');
    for (let trial = 0; trial < 24; trial++) {
      const rank = trial < 20 ? 1 + rng.int(4) : 3;
      // The last trials reduce over more rows than one 256-row block of the SIMD kernel.
      const shape = trial < 20 ? Array.from({ length: rank }, () => 1 + rng.int(5)) : [1 + rng.int(3), 300 + rng.int(400), 1 + rng.int(9)];
      const values = rand(rng, sizeOf(shape));
      const start = trial < 20 ? rng.int(rank) : rng.int(2);
      const end = trial < 20 ? start + rng.int(rank - start) : 1;
      const axes = Array.from({ length: end - start + 1 }, (_, i) => start + i);
      const keepDims = rng.next() < 0.5;
      const perm = Array.from({ length: rank }, (_, i) => i).sort(() => rng.next() - 0.5);
      const run = (backend: Backend) => on(backend, () => {
        const x = tf.tensor(values, shape);
        return [tf.sum(x, axes, keepDims), tf.mean(x, axes, keepDims), tf.transpose(x, perm), ...tf.unstack(x, start)];
      });
      expectClose(run('wasm'), run('cpu'), `reduce ${shape} axes ${axes} perm ${perm}`);
    }
  });
});

describe('fused training ops vs the stock composition on cpu', () => {
  it('self-attention kernel (wasm) vs the stock composition (cpu), with and without a mask, forward and gradients', () => {
    // The composition MultiHeadSelfAttention runs where the kernel is not registered.
    const composed = (qkv: tf.Tensor, mask: tf.Tensor | undefined, h: number) => {
      const [b, t, d3] = qkv.shape as [number, number, number];
      const dh = d3 / 3 / h;
      const [q, k, v] = tf.unstack(tf.transpose(tf.reshape(qkv, [b, t, 3, h, dh]), [2, 0, 3, 1, 4]), 0);
      let scores = tf.mul(tf.matMul(q!, k!, false, true), 1 / Math.sqrt(dh));
      if (mask) scores = tf.add(scores, tf.reshape(tf.mul(tf.sub(1, mask), MASKED_SCORE), [b, 1, 1, t]));
      return tf.reshape(tf.transpose(tf.matMul(tf.softmax(scores), v!), [0, 2, 1, 3]), [b, t, h * dh]);
    };
    const attention = (qkv: tf.Tensor, mask: tf.Tensor | undefined, h: number) => {
      if (!tf.getKernel(SELF_ATTENTION, tf.getBackend())) return composed(qkv, mask, h);
      const [b, t] = qkv.shape;
      return tf.engine().runKernel(SELF_ATTENTION, { qkv, mask: mask ?? tf.ones([b!, t!]) }, { numHeads: h }) as tf.Tensor;
    };
    expect(tf.getKernel(SELF_ATTENTION, 'wasm')).toBeTruthy();
    expect(tf.getKernel(SELF_ATTENTION, 'cpu')).toBeFalsy();
    const rng = createRng('attention');
    for (let trial = 0; trial < 12; trial++) {
      const b = 1 + rng.int(3);
      const t = rng.pick([1, 3, 5, 8, 13, 64]);
      const h = rng.pick([1, 2, 4]);
      const dh = rng.pick([1, 3, 4, 8, 16]);
      const d = h * dh;
      const qkv = { values: rand(rng, b * t * 3 * d), shape: [b, t, 3 * d] };
      // Masks keep a random prefix per row; some rows keep nothing.
      const maskValues = new Float32Array(b * t);
      for (let i = 0; i < b; i++) { const kept = rng.int(t + 1); for (let j = 0; j < kept; j++) maskValues[i * t + j] = 1; }
      const withMask = trial % 2 === 1;
      const label = `attention b${b} t${t} h${h} dh${dh}${withMask ? ' masked' : ''}`;
      const f = (x: tf.Tensor) => attention(x, withMask ? tf.tensor2d(maskValues, [b, t]) : undefined, h);
      expectClose(on('wasm', () => f(tf.tensor(qkv.values, qkv.shape))), on('cpu', () => f(tf.tensor(qkv.values, qkv.shape))), label);
      compareGrads(label, [qkv], (x) => f(x!), trial);
    }
    // Through the layer: same weights, same output and input gradient on both backends, no leak.
    const x = rand(rng, 2 * 7 * 12);
    const weights = [rand(rng, 12 * 36), rand(rng, 36), rand(rng, 12 * 12), rand(rng, 12)];
    const layerRun = (backend: Backend) => on(backend, () => {
      const layer = new MultiHeadSelfAttention({ numHeads: 3 });
      layer.build([2, 7, 12]);
      layer.setWeights([tf.tensor2d(weights[0]!, [12, 36]), tf.tensor1d(weights[1]!), tf.tensor2d(weights[2]!, [12, 12]), tf.tensor1d(weights[3]!)]);
      const input = tf.tensor3d(x, [2, 7, 12]);
      const [y, dx] = [layer.apply(input) as tf.Tensor, tf.grad((z: tf.Tensor) => tf.sum(tf.square(layer.apply(z) as tf.Tensor)))(input)];
      for (const w of layer.weights) w.dispose();
      return [y, dx];
    });
    const before = tf.memory().numTensors;
    expectClose(layerRun('wasm'), layerRun('cpu'), 'MultiHeadSelfAttention layer');
    tf.setBackend('wasm');
    expect(tf.memory().numTensors).toBe(before);
  });

  it('batch norm (training), alone and with ReLU6 fused, forward and gradients', () => {
    const rng = createRng('bn');
    for (let trial = 0; trial < 8; trial++) {
      const relu6 = trial % 2 === 1;
      const shape = [1 + rng.int(4), 1 + rng.int(5), 1 + rng.int(5), 1 + rng.int(6)];
      const c = shape[3]!;
      // With ReLU6, a wide gamma and offset beta put outputs on both sides of 0 and 6.
      const inputs = [
        { values: rand(rng, sizeOf(shape)), shape },
        { values: rand(rng, c).map((v) => (relu6 ? 5 * v : v)), shape: [c] },
        { values: rand(rng, c).map((v) => (relu6 ? 3 + 2 * v : v)), shape: [c] },
      ];
      const fused = (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => batchNormTraining(x, g as tf.Tensor1D, b as tf.Tensor1D, 1e-3, relu6).y;
      const stock = (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
        const { mean, variance } = tf.moments(x, [0, 1, 2]);
        const z = tf.batchNorm(x, mean, variance, b as tf.Tensor1D, g as tf.Tensor1D, 1e-3);
        return relu6 ? tf.relu6(z) : z;
      };
      const grads = (backend: Backend, f: (...xs: tf.Tensor[]) => tf.Tensor) => valueAndGrads(backend, inputs, f, trial);
      const want = grads('cpu', stock as (...xs: tf.Tensor[]) => tf.Tensor);
      expectClose(grads('wasm', fused as (...xs: tf.Tensor[]) => tf.Tensor), want, `batchnorm wasm ${shape}`);
      expectClose(grads('cpu', fused as (...xs: tf.Tensor[]) => tf.Tensor), want, `batchnorm cpu ${shape}`);
    }
  });

  it('layer norm forward and gradients', () => {
    const rng = createRng('ln');
    for (let trial = 0; trial < 10; trial++) {
      // The later trials span several 256-row blocks of the SIMD kernel's sums, with widths not a multiple of 4.
      const shape = trial < 6 ? [1 + rng.int(4), 1 + rng.int(5), 2 + rng.int(8)] : [2 + rng.int(2), 90 + rng.int(60), 2 + rng.int(70)];
      const d = shape[2]!;
      const inputs = [
        { values: rand(rng, sizeOf(shape)), shape },
        { values: rand(rng, d), shape: [d] },
        { values: rand(rng, d), shape: [d] },
      ];
      const fused = (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => layerNormalization(x, g as tf.Tensor1D, b as tf.Tensor1D, 1e-5);
      const stock = (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
        const { mean, variance } = tf.moments(x, -1, true);
        return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, 1e-5))), g), b);
      };
      const grads = (backend: Backend, f: (...xs: tf.Tensor[]) => tf.Tensor) => valueAndGrads(backend, inputs, f, trial);
      const want = grads('cpu', stock as (...xs: tf.Tensor[]) => tf.Tensor);
      expectClose(grads('wasm', fused as (...xs: tf.Tensor[]) => tf.Tensor), want, `layernorm wasm ${shape}`);
    }
  });

  it('relu6 gradient matches the stock definition (0 < x ≤ 6)', () => {
    const values = Float32Array.from([-1, 0, 0.5, 3, 6, 6.5, 7, -0.1]);
    const run = (backend: Backend) => on(backend, () => tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.relu6(x), tf.range(1, 9))))(tf.tensor1d(values)));
    const got = run('wasm');
    expect(Array.from(got[0]!)).toEqual([0, 0, 3, 4, 5, 0, 0, 0]);
    expectClose(got, run('cpu'), 'relu6 grad');
  });
});
