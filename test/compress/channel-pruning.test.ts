import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../../src/core/index.js';
import { keptCount, pruneChannels } from '../../src/compress/index.js';
import { layersModelCost } from '../../src/space/index.js';
import { buildMobilenet, mobilenetCostDetail, type MobilenetArch } from '../../search-spaces/mobilenet/index.js';

const task = { kind: 'image', dataset: 'fashion-mnist', inputShape: [28, 28], numClasses: 10 } as const;
const stage = (expand: 1 | 3 | 6, se: boolean, skip: 'none' | 'residual', layers: 1 | 2 = 1) => ({ layers, expand, kernel: 3 as const, se, skip });
// Tiny but covers every pattern: expansion with and without SE, a residual stream, a stage without expansion.
const ARCH: MobilenetArch = { width: 0.5, stages: [stage(3, false, 'residual', 2), stage(3, true, 'none'), stage(1, false, 'none'), stage(6, true, 'residual', 2), stage(3, false, 'none')] };

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] as number);
}

describe('pruneChannels on a mobilenet-space model', () => {
  let model: tf.LayersModel;
  let x: tf.Tensor;
  beforeAll(async () => {
    await tf.setBackend('cpu');
    model = buildMobilenet(ARCH, task, { seed: 3 });
    // Non-trivial batch-norm statistics, so slicing them wrongly would show.
    for (const l of model.layers.filter((l) => l.getClassName() === 'BatchNormalization')) {
      l.setWeights(l.getWeights().map((w, i) => tf.add(i === 3 ? 1 : 0, tf.randomUniform(w.shape, 0.1, 0.5, 'float32', i + 7))));
    }
    x = tf.randomUniform([3, 28, 28], 0, 1, 'float32', 11);
  });
  afterAll(() => {
    model.dispose();
    x.dispose();
  });

  it('at sparsity 0 rebuilds the same function', () => {
    const r = pruneChannels(model, 0);
    try {
      expect(r.paramsAfter).toBe(r.paramsBefore);
      const [a, b] = [model.predict(x) as tf.Tensor, r.model.predict(x) as tf.Tensor];
      expect(maxAbsDiff(a, b)).toBeLessThan(1e-6);
      tf.dispose([a, b]);
    } finally {
      r.model.dispose();
    }
  });

  it('removes expansion and SE channels, leaves residual streams, the logits and unexpanded stages alone; params and MACs drop', () => {
    const r = pruneChannels(model, 0.5);
    try {
      const byProducer = new Map(r.groups.map((g) => [g.producers.join('+'), g]));
      expect(byProducer.get('s1_l1_expand')).toMatchObject({ channelsBefore: 24, channelsAfter: 12 });
      expect(byProducer.get('s2_l1_expand+s2_l1_se_expand')).toMatchObject({ channelsBefore: 24, channelsAfter: 12 });
      expect(byProducer.get('s2_l1_se_reduce')).toMatchObject({ channelsBefore: 2, channelsAfter: 1 });
      expect(byProducer.get('logits')?.skipped).toBe('model output');
      // Stage 1 starts at stride 2, so the stem's channels feed one block only and prune; its two blocks share a stream.
      expect(byProducer.get('stem_conv')).toMatchObject({ channelsBefore: 8, channelsAfter: 4 });
      expect(byProducer.get('s1_l1_project+s1_l2_project')?.skipped).toMatch(/residual/);
      // Stage 3 has no expansion: its depthwise channels are the previous project's output, which feeds a plain block.
      expect(byProducer.get('s2_l1_project')).toMatchObject({ channelsBefore: 12, channelsAfter: 6 });
      expect(r.paramsAfter).toBeLessThan(0.7 * r.paramsBefore);
      expect(r.macsAfter).toBeLessThan(0.7 * r.macsBefore);
      // The walker counts the rebuilt model, and the parent agrees with the space's analytic count.
      expect(r.paramsBefore).toBe(mobilenetCostDetail(ARCH, task).params);
      expect(layersModelCost(r.model).params).toBe(r.paramsAfter);
      expect((r.model.predict(x) as tf.Tensor).shape).toEqual([3, 10]);
    } finally {
      r.model.dispose();
    }
  });

  it('computes exactly what the original computes once the removed channels are cut at their consumers', () => {
    const r = pruneChannels(model, 0.5);
    const reference = buildMobilenet(ARCH, task, { seed: 3 });
    try {
      reference.setWeights(model.getWeights());
      const consumerCut = new Map<string, Set<number>>();
      for (const g of r.groups) {
        if (!g.keptChannels) continue;
        const removed = new Set([...Array(g.channelsBefore).keys()].filter((c) => !g.keptChannels!.includes(c)));
        for (const c of g.consumers) consumerCut.set(c, removed);
      }
      expect(consumerCut.size).toBeGreaterThan(3);
      for (const [name, removed] of consumerCut) {
        const layer = reference.getLayer(name);
        const [kernel, ...rest] = layer.getWeights();
        const k = kernel!.arraySync() as number[][] | number[][][][];
        // Conv2D kernels are [kh, kw, in, out]; Dense kernels [in, out]: zero the rows of removed inputs.
        const cut = kernel!.rank === 4
          ? (k as number[][][][]).map((a) => a.map((b) => b.map((row, i) => (removed.has(i) ? row.map(() => 0) : row))))
          : (k as number[][]).map((row, i) => (removed.has(i) ? row.map(() => 0) : row));
        layer.setWeights([tf.tensor(cut as never, kernel!.shape), ...rest]);
      }
      const [a, b] = [reference.predict(x) as tf.Tensor, r.model.predict(x) as tf.Tensor];
      expect(maxAbsDiff(a, b)).toBeLessThan(1e-4);
      tf.dispose([a, b]);
    } finally {
      reference.dispose();
      r.model.dispose();
    }
  });

  it('can prune residual streams too when asked, and never leaves a group empty', () => {
    const r = pruneChannels(model, 0.99, { residualStreams: true });
    try {
      expect(r.groups.find((g) => g.producers.includes('stem_conv'))?.channelsAfter).toBe(1);
      for (const g of r.groups) expect(g.channelsAfter).toBeGreaterThanOrEqual(1);
      expect((r.model.predict(x) as tf.Tensor).shape).toEqual([3, 10]);
    } finally {
      r.model.dispose();
    }
  });

  it('rejects a sparsity outside [0, 1) and leaks no tensor', () => {
    expect(() => pruneChannels(model, 1)).toThrow(UserError);
    expect(() => pruneChannels(model, -0.1)).toThrow(/--sparsity/);
    const before = tf.memory().numTensors;
    pruneChannels(model, 0.3).model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('pruneChannels on other shapes', () => {
  it('leaves a group alone when it reaches a layer that mixes positions and channels (flatten)', () => {
    const input = tf.input({ shape: [6, 6, 1] });
    let y = tf.layers.conv2d({ filters: 4, kernelSize: 3, name: 'c1' }).apply(input) as tf.SymbolicTensor;
    y = tf.layers.flatten().apply(y) as tf.SymbolicTensor;
    y = tf.layers.dense({ units: 8, activation: 'relu', name: 'd1' }).apply(y) as tf.SymbolicTensor;
    const out = tf.layers.dense({ units: 3, name: 'd2' }).apply(y) as tf.SymbolicTensor;
    const m = tf.model({ inputs: input, outputs: out });
    const r = pruneChannels(m, 0.5);
    try {
      const g = new Map(r.groups.map((x) => [x.producers.join('+'), x]));
      expect(g.get('c1')?.skipped).toMatch(/Flatten/);
      expect(g.get('d1')).toMatchObject({ channelsBefore: 8, channelsAfter: 4 });
      expect(r.paramsAfter).toBe(r.paramsBefore - 4 * (64 + 1) - 4 * 3);
    } finally {
      r.model.dispose();
      m.dispose();
    }
  });
});

describe('keptCount', () => {
  it('rounds kept channels to the nearest multiple, never above the original nor below one multiple, and leaves small groups whole', () => {
    expect(keptCount(48, 0.5, 1, 1)).toBe(24);
    expect(keptCount(48, 0.6, 1, 1)).toBe(20);
    expect(keptCount(48, 0.6, 1, 16)).toBe(16);
    expect(keptCount(48, 0.5, 1, 16)).toBe(32);
    expect(keptCount(144, 0.6, 1, 16)).toBe(64);
    expect(keptCount(288, 0.6, 1, 16)).toBe(112);
    expect(keptCount(24, 0.9, 1, 8)).toBe(8);
    expect(keptCount(16, 0.5, 1, 16)).toBe(16);
    expect(keptCount(6, 0.5, 1, 8)).toBe(6);
    expect(keptCount(40, 0, 1, 16)).toBe(40);
  });
});

describe('pruneChannels with multipleOf', () => {
  it('keeps every pruned group at a multiple and the network still computes', async () => {
    await tf.setBackend('cpu');
    const wide: MobilenetArch = { ...ARCH, width: 1 };
    const model = buildMobilenet(wide, task, { seed: 5 });
    const r = pruneChannels(model, 0.6, { multipleOf: 8 });
    const x = tf.randomUniform([2, 28, 28], 0, 1, 'float32', 1);
    try {
      const pruned = r.groups.filter((g) => g.channelsAfter < g.channelsBefore);
      expect(pruned.length).toBeGreaterThan(3);
      for (const g of pruned) expect(g.channelsAfter % 8).toBe(0);
      for (const g of r.groups.filter((g) => g.channelsBefore < 16)) expect(g.channelsAfter).toBe(g.channelsBefore);
      expect((r.model.predict(x) as tf.Tensor).shape).toEqual([2, 10]);
    } finally {
      x.dispose();
      r.model.dispose();
      model.dispose();
    }
  });
});
