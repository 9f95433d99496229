import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/core/index.js';
import { registerCpuTrainingKernels } from '../../src/trainer/wasm-kernels.js';

/** The cpu replacements against the stock cpu kernels they replace; tolerance 1e-4 of the largest magnitude. */
describe('cpu training kernel replacements', () => {
  it('match the stock cpu kernels over random shapes', async () => {
    await tf.setBackend('cpu');
    const rng = createRng('cpu-kernels');
    const cases = Array.from({ length: 12 }, () => {
      const n = 1 + rng.int(3), h = 4 + rng.int(6), w = 4 + rng.int(6), c = 1 + rng.int(5), co = 1 + rng.int(5);
      const k = rng.pick([1, 2, 3]);
      const stride = rng.pick([1, 2]);
      const pad = rng.pick(['same', 'valid'] as const);
      const x = Float32Array.from({ length: n * h * w * c }, () => rng.normal());
      const info = tf.backend_util.computeConv2DInfo([n, h, w, c], [k, k, c, co], [stride, stride], 1, pad);
      const dy = Float32Array.from({ length: n * info.outHeight * info.outWidth * co }, () => rng.normal());
      const dinfo = tf.backend_util.computeConv2DInfo([n, h, w, c], [k, k, c, 1], [stride, stride], 1, pad, undefined, true);
      const ddy = Float32Array.from({ length: n * dinfo.outHeight * dinfo.outWidth * c }, () => rng.normal());
      const ids = Int32Array.from({ length: n * 3 }, () => rng.int(7));
      const seg = Float32Array.from({ length: n * 3 * co }, () => rng.normal());
      return { n, h, w, c, co, k, stride, pad, x, dy, info, ddy, dinfo, ids, seg };
    });
    const runAll = () => cases.map((t) => tf.tidy(() => {
      const x = tf.tensor4d(t.x, [t.n, t.h, t.w, t.c]);
      const dy = tf.tensor4d(t.dy, [t.n, t.info.outHeight, t.info.outWidth, t.co]);
      const ddy = tf.tensor4d(t.ddy, [t.n, t.dinfo.outHeight, t.dinfo.outWidth, t.c]);
      const e = tf.engine();
      return [
        e.runKernel('Conv2DBackpropFilter', { x, dy }, { strides: [t.stride, t.stride], pad: t.pad, dataFormat: 'NHWC', filterShape: [t.k, t.k, t.c, t.co] }),
        e.runKernel('DepthwiseConv2dNativeBackpropFilter', { x, dy: ddy }, { strides: [t.stride, t.stride], dilations: [1, 1], pad: t.pad, filterShape: [t.k, t.k, t.c, 1] }),
        e.runKernel('UnsortedSegmentSum', { x: tf.tensor2d(t.seg, [t.n * 3, t.co]), segmentIds: tf.tensor1d(t.ids, 'int32') }, { numSegments: 7 }),
      ].map((r) => Float32Array.from((r as tf.Tensor).dataSync()));
    }));
    const stock = runAll();
    registerCpuTrainingKernels();
    const ours = runAll();
    ours.forEach((outs, i) => outs.forEach((o, j) => {
      const want = stock[i]![j]!;
      const scale = Math.max(1, ...Array.from(want, Math.abs));
      const err = Math.max(...Array.from(o, (v, q) => Math.abs(v - want[q]!)));
      expect(err, `case ${i} kernel ${j}`).toBeLessThanOrEqual(1e-4 * scale);
    }));
  });
});
