import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { UserError, createRng } from '../../src/core/index.js';
import { layersModelCost, type Task } from '../../src/space/index.js';
import {
  MOBILENET_DECISIONS,
  makeDivisible,
  mobilenetCostDetail,
  mobilenetSpace as space,
  type MobilenetArch,
  type MobilenetStage,
} from '../../search-spaces/mobilenet/index.js';

const task: Task = { dataset: 'fashion-mnist', inputShape: [28, 28, 1], numClasses: 10, kind: 'image' };
const plain: MobilenetStage = { layers: 1, expand: 1, kernel: 3, se: false, skip: 'none' };
/** Smallest corner of the space: width 0.5, one expansion-free 3×3 layer per stage. */
const tiny: MobilenetArch = { width: 0.5, stages: [plain, plain, plain, plain, plain].map((s) => ({ ...s })) };
/** The tiny arch with stage 1 at full options: 2 layers, expand 6, kernel 5, SE, residual. */
const rich: MobilenetArch = {
  width: 0.5,
  stages: [{ layers: 2, expand: 6, kernel: 5, se: true, skip: 'residual' }, ...tiny.stages.slice(1).map((s) => ({ ...s }))],
};

function trainable(model: tf.LayersModel): number {
  return model.trainableWeights.reduce((n, w) => n + w.shape.reduce((a: number, b) => a * (b ?? 1), 1), 0);
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('mobilenet space: architectures', () => {
  it('has width plus 5 decisions for each of 5 stages, with unique names', () => {
    const names = space.decisions().map((d) => d.name);
    expect(names).toHaveLength(26);
    expect(new Set(names).size).toBe(26);
    expect(names.slice(0, 6)).toEqual(['width', 'stage1.layers', 'stage1.expand', 'stage1.kernel', 'stage1.se', 'stage1.skip']);
  });

  it('samples deterministically for a seed and differently for another', () => {
    const draw = (seed: number) => {
      const rng = createRng(seed);
      return Array.from({ length: 20 }, () => space.key(space.sample(rng)));
    };
    expect(draw(7)).toEqual(draw(7));
    expect(draw(7)).not.toEqual(draw(8));
  });

  it('covers every choice of every decision when sampling', () => {
    const rng = createRng(1);
    const seen = MOBILENET_DECISIONS.map(() => new Set<number>());
    for (let i = 0; i < 300; i++) space.encode(space.sample(rng)).forEach((c, d) => seen[d]!.add(c));
    seen.forEach((s, d) => expect(s.size, MOBILENET_DECISIONS[d]!.name).toBe(MOBILENET_DECISIONS[d]!.choices.length));
  });

  it('round-trips encode/decode and JSON through validate', () => {
    const rng = createRng(2);
    for (let i = 0; i < 200; i++) {
      const arch = space.sample(rng);
      expect(space.decode(space.encode(arch))).toEqual(arch);
      expect(space.validate(JSON.parse(JSON.stringify(arch)))).toEqual(arch);
    }
    expect(() => space.decode([0, 1])).toThrow(RangeError);
    expect(() => space.decode(new Array(26).fill(3))).toThrow(/out of range/);
  });

  it('rejects malformed JSON with a UserError naming the field, the choices and the value', () => {
    const bad = (mutate: (a: Record<string, unknown>) => void) => {
      const a = JSON.parse(JSON.stringify(tiny)) as Record<string, unknown>;
      mutate(a);
      return () => space.validate(a);
    };
    expect(() => space.validate('w1')).toThrow(UserError);
    expect(bad((a) => (a['width'] = 2))).toThrow(/arch\.width must be one of 0\.5, 0\.75, 1; got 2/);
    expect(bad((a) => ((a['stages'] as Record<string, unknown>[])[2]!['kernel'] = 7))).toThrow(/arch\.stages\[2\]\.kernel must be one of 3, 5; got 7/);
    expect(bad((a) => ((a['stages'] as Record<string, unknown>[])[0]!['se'] = 'yes'))).toThrow(/arch\.stages\[0\]\.se must be one of false, true; got "yes"/);
    expect(bad((a) => delete (a['stages'] as Record<string, unknown>[])[4]!['skip'])).toThrow(/arch\.stages\[4\]\.skip must be one of "none", "residual"; got nothing/);
    expect(bad((a) => (a['stages'] as unknown[]).pop())).toThrow(/arch\.stages must be an array of 5 stages; got 4 entries/);
    expect(bad((a) => (a['depth'] = 3))).toThrow(/unknown field "depth"/);
    expect(bad((a) => ((a['stages'] as Record<string, unknown>[])[1]!['kernal'] = 3))).toThrow(/arch\.stages\[1\] has unknown field "kernal"/);
  });

  it('keys ignore field order and skip choices that cannot apply', () => {
    const reordered = { stages: tiny.stages.map((s) => ({ skip: s.skip, se: s.se, kernel: s.kernel, expand: s.expand, layers: s.layers })), width: tiny.width };
    expect(space.key(reordered as MobilenetArch)).toBe(space.key(tiny));
    // Stage 2 has one layer that changes channels, so its skip is moot...
    const moot = { ...tiny, stages: tiny.stages.map((s, i) => (i === 1 ? { ...s, skip: 'residual' as const } : s)) };
    expect(space.key(moot)).toBe(space.key(tiny));
    // ...but with two layers its second keeps 12 channels at stride 1, so the skip is real.
    const twice = { ...tiny, stages: tiny.stages.map((s, i) => (i === 1 ? { ...s, layers: 2 as const } : s)) };
    const real = { ...twice, stages: twice.stages.map((s, i) => (i === 1 ? { ...s, skip: 'residual' as const } : s)) };
    expect(space.key(real)).not.toBe(space.key(twice));
    const tinyKey = space.key(tiny);
    expect(space.key(real)).not.toBe(tinyKey);
  });

  it('mutates to a different, valid network in one decision, deterministically', () => {
    const rng = createRng(3);
    for (let i = 0; i < 300; i++) {
      const parent = space.sample(rng);
      const child = space.mutate(parent, rng);
      expect(space.key(child)).not.toBe(space.key(parent));
      expect(space.validate(child)).toEqual(child);
      const diff = space.encode(child).filter((c, d) => c !== space.encode(parent)[d]);
      expect(diff).toHaveLength(1);
    }
    const p = space.sample(createRng(4));
    expect(space.mutate(p, createRng(5))).toEqual(space.mutate(p, createRng(5)));
  });

  it('crosses over whole stages from either parent', () => {
    const rng = createRng(6);
    for (let i = 0; i < 100; i++) {
      const a = space.sample(rng);
      const b = space.sample(rng);
      const child = space.crossover!(a, b, rng);
      expect(space.validate(child)).toEqual(child);
      expect([a.width, b.width]).toContain(child.width);
      child.stages.forEach((st, s) => expect([a.stages[s], b.stages[s]]).toContainEqual(st));
    }
  });

  it('labels and reports params and macs metrics to minimise', () => {
    expect(space.label!(rich)).toBe('w0.5 2x6k5se+r|1x1k3|1x1k3|1x1k3|1x1k3');
    expect(space.metrics('fashion-mnist').map((m) => [m.name, m.direction])).toEqual([
      ['params', 'minimize'],
      ['macs', 'minimize'],
    ]);
  });
});

describe('mobilenet space: exact cost', () => {
  it('rounds channels like MobileNet make_divisible with divisor 4', () => {
    expect([8, 12, 16, 18, 24, 36, 48].map((v) => makeDivisible(v))).toEqual([8, 12, 16, 20, 24, 36, 48]);
  });

  it('counts the tiny arch by hand', () => {
    // width 0.5: stem 8, stage channels 8, 12, 16, 24, 32; resolution 28 → 14 (stem) → 7 → 7 → 4 → 4 → 4.
    // stem 3×3×1×8 = 72 (+BN 16); MACs 14·14·9·8 = 14,112.
    // stage1 8→8 s2: dw 9·8 = 72 (+16), proj 8·8 = 64 (+16); MACs 49·72 + 49·64 = 6,664.
    // stage2 8→12: dw 72 (+16), proj 96 (+24); MACs 49·72 + 49·96 = 8,232.
    // stage3 12→16 s2: dw 108 (+24), proj 192 (+32); MACs 16·108 + 16·192 = 4,800.
    // stage4 16→24: dw 144 (+32), proj 384 (+48); MACs 16·144 + 16·384 = 8,448.
    // stage5 24→32: dw 216 (+48), proj 768 (+64); MACs 16·216 + 16·768 = 15,744.
    // dense 32·10 + 10 = 330; MACs 320.
    const params = 88 + 168 + 208 + 356 + 608 + 1096 + 330;
    const macs = 14_112 + 6_664 + 8_232 + 4_800 + 8_448 + 15_744 + 320;
    expect(params).toBe(2854);
    expect(macs).toBe(58_320);
    expect(space.cost(tiny, task)).toEqual({ params: 2854, macs: 58_320 });
    // BN moving mean+variance over 8 + (8+8) + (8+12) + (12+16) + (16+24) + (24+32) = 168 channels.
    expect(mobilenetCostDetail(tiny, task).stateParams).toBe(336);
  });

  it('counts expansion, kernel 5, squeeze-and-excitation and residual by hand', () => {
    // stage1 layers (8→48→8, k5, SE 8·0.25 = 2), each with
    // expand 8·48 = 384 (+96), dw 25·48 = 1200 (+96), SE 48·2+2 = 98 and 2·48+48 = 144, proj 48·8 = 384 (+16)
    // = 2418 params. The first (stride 2, 14×14 in, 7×7 out; no residual) has MACs
    // 196·384 + 49·1200 + 96 + 96 + 49·384 = 153,072; the second (7×7, residual) 49·384 + 49·1200 + 192 + 49·384 = 96,624.
    const params = 2854 - 168 + 2 * 2418;
    const macs = 58_320 - 6_664 + 153_072 + 96_624;
    expect(space.cost(rich, task)).toEqual({ params, macs });
    expect(params).toBe(7522);
    expect(macs).toBe(301_352);
  });

  it('matches the built model: trainable weights, countParams, and the layer walker', () => {
    for (const arch of [tiny, rich]) {
      const model = space.build(arch, task);
      const detail = mobilenetCostDetail(arch, task);
      expect(trainable(model)).toBe(detail.params);
      expect(model.countParams()).toBe(detail.params + detail.stateParams);
      model.dispose();
    }
    const model = space.build(rich, task);
    expect(model.countParams()).toBe(7522 + 720);
    model.dispose();
  });

  it('agrees with countParams and the layer walker over many sampled archs and tasks', () => {
    const rng = createRng(11);
    const tasks: Task[] = [task, { dataset: 'cifar-like', inputShape: [32, 32, 3], numClasses: 100, kind: 'image' }];
    for (let i = 0; i < 40; i++) {
      const arch = space.sample(rng);
      const t = tasks[i % 2]!;
      const model = space.build(arch, t);
      const detail = mobilenetCostDetail(arch, t);
      const walked = layersModelCost(model);
      expect(walked.uncounted).toEqual([]);
      expect(walked.params).toBe(detail.params);
      expect(walked.macs).toBe(detail.macs);
      expect(model.countParams()).toBe(detail.params + detail.stateParams);
      model.dispose();
    }
  });
});

describe('mobilenet space: build', () => {
  it('builds logits for the task shape, for [H,W,C] and [H,W] inputs', () => {
    const before = tf.memory().numTensors;
    for (const t of [task, { ...task, inputShape: [28, 28] }, { ...task, inputShape: [20, 24, 3], numClasses: 5 }]) {
      const model = space.build(rich, t);
      const y = tf.tidy(() => model.predict(tf.randomNormal([2, ...t.inputShape])) as tf.Tensor);
      expect(y.shape).toEqual([2, t.numClasses]);
      expect(Array.from(y.dataSync()).every(Number.isFinite)).toBe(true);
      y.dispose();
      model.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('leaves no tensor behind after build and dispose of many sampled archs', () => {
    const before = tf.memory().numTensors;
    const rng = createRng(12);
    for (let i = 0; i < 10; i++) space.build(space.sample(rng), task).dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('is reproducible with a seed', () => {
    const a = space.build(rich, task, { seed: 3 });
    const b = space.build(rich, task, { seed: 3 });
    const wa = a.getWeights().map((w) => Array.from(w.dataSync()));
    const wb = b.getWeights().map((w) => Array.from(w.dataSync()));
    expect(wa).toEqual(wb);
    a.dispose();
    b.dispose();
  });

  it('trains: SGD steps lower the loss on a fixed batch and leaks nothing', () => {
    // An 8×8 input keeps the pure-JS backend's convolution gradients fast enough for a unit test.
    const small: Task = { ...task, inputShape: [8, 8, 1] };
    const model = space.build(rich, small, { seed: 1 });
    const xs = tf.randomNormal([4, 8, 8, 1], 0, 1, 'float32', 5);
    const ys = tf.oneHot(tf.tensor1d([0, 1, 2, 3], 'int32'), 10);
    const optimizer = tf.train.sgd(0.05);
    const before = tf.memory().numTensors;
    const lossOf = () => tf.losses.softmaxCrossEntropy(ys, model.apply(xs, { training: true }) as tf.Tensor) as tf.Scalar;
    const losses: number[] = [];
    for (let step = 0; step < 3; step++) {
      const loss = optimizer.minimize(lossOf, true)!;
      losses.push(loss.dataSync()[0]!);
      loss.dispose();
    }
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses[2]!).toBeLessThan(losses[0]!);
    // The optimizer keeps no slots for SGD, so the tensor count is flat across steps.
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([xs, ys]);
    optimizer.dispose();
    model.dispose();
  });

  it('saves and loads through tfjs serialisation', async () => {
    const model = space.build(rich, task, { seed: 2 });
    let artifacts: tf.io.ModelArtifacts | undefined;
    await model.save(tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }));
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts!));
    const x = tf.randomNormal([1, 28, 28, 1], 0, 1, 'float32', 9);
    const [ya, yb] = [model.predict(x) as tf.Tensor, loaded.predict(x) as tf.Tensor];
    expect(Array.from(yb.dataSync())).toEqual(Array.from(ya.dataSync()));
    tf.dispose([x, ya, yb]);
    model.dispose();
    loaded.dispose();
  });

  it('refuses a text task with a UserError naming the dataset and the fix', () => {
    const text: Task = { dataset: 'spam-assassin', inputShape: [64], numClasses: 2, kind: 'text', vocabSize: 100 };
    expect(() => space.cost(tiny, text)).toThrow(UserError);
    expect(() => space.build(tiny, text)).toThrow(/needs an image task.*spam-assassin is text.*another --space/);
  });
});
