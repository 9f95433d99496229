import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { UserError, createRng } from '../../src/core/index.js';
import { layersModelCost, type Task } from '../../src/space/index.js';
import {
  TRANSFORMER_DECISIONS,
  transformerCostDetail,
  transformerSpace as space,
  type TransformerArch,
} from '../../search-spaces/transformer/index.js';

const tinyTask: Task = { dataset: 'tiny-text', inputShape: [4], numClasses: 2, kind: 'text', vocabSize: 10 };
const tiny: TransformerArch = { dModel: 32, pooling: 'mean', layers: [{ heads: 1, ffnMult: 1 }] };
/** Model B of the fast-training issue: vocabulary 5,000, sequence 64, d 64, 2 layers × 4 heads, FFN 128, mean pooling. */
const modelB: TransformerArch = { dModel: 64, pooling: 'mean', layers: [{ heads: 4, ffnMult: 2 }, { heads: 4, ffnMult: 2 }] };
const modelBTask: Task = { dataset: 'spam-assassin', inputShape: [64], numClasses: 2, kind: 'text', vocabSize: 5000 };

function trainable(model: tf.LayersModel): number {
  return model.trainableWeights.reduce((n, w) => n + w.shape.reduce((a: number, b) => a * (b ?? 1), 1), 0);
}

function tokens(batch: number, seqLen: number, vocab: number, seed: number): tf.Tensor2D {
  const rng = createRng(seed);
  return tf.tensor2d(Array.from({ length: batch * seqLen }, () => rng.int(vocab)), [batch, seqLen], 'int32');
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('transformer space: architectures', () => {
  it('has layers, dModel, pooling and heads/ffnMult for 4 layer slots', () => {
    expect(space.decisions().map((d) => d.name)).toEqual([
      'layers', 'dModel', 'pooling',
      'layer1.heads', 'layer1.ffnMult', 'layer2.heads', 'layer2.ffnMult',
      'layer3.heads', 'layer3.ffnMult', 'layer4.heads', 'layer4.ffnMult',
    ]);
  });

  it('samples deterministically for a seed and covers every choice', () => {
    const draw = (seed: number) => {
      const rng = createRng(seed);
      return Array.from({ length: 300 }, () => space.sample(rng));
    };
    expect(draw(1)).toEqual(draw(1));
    expect(draw(1)).not.toEqual(draw(2));
    const seen = TRANSFORMER_DECISIONS.map(() => new Set<number>());
    for (const arch of draw(1)) space.encode(arch).forEach((c, d) => seen[d]!.add(c));
    seen.forEach((s, d) => expect(s.size, TRANSFORMER_DECISIONS[d]!.name).toBe(TRANSFORMER_DECISIONS[d]!.choices.length));
  });

  it('round-trips encode/decode and JSON; inactive slots encode as 0 and are ignored by decode', () => {
    const rng = createRng(3);
    for (let i = 0; i < 200; i++) {
      const arch = space.sample(rng);
      const enc = space.encode(arch);
      expect(space.decode(enc)).toEqual(arch);
      expect(space.validate(JSON.parse(JSON.stringify(arch)))).toEqual(arch);
      expect(enc.slice(3 + 2 * arch.layers.length).every((c) => c === 0)).toBe(true);
    }
    expect(space.encode(tiny)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(space.decode([0, 0, 0, 0, 0, 2, 2, 1, 1, 2, 2])).toEqual(tiny);
    expect(() => space.decode([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3])).toThrow(/out of range for decision layer4\.ffnMult/);
  });

  it('rejects malformed JSON with a UserError naming the field', () => {
    const bad = (value: unknown) => () => space.validate(value);
    expect(bad(null)).toThrow(UserError);
    expect(bad({ ...tiny, dModel: 48 })).toThrow(/arch\.dModel must be one of 32, 64, 128; got 48/);
    expect(bad({ ...tiny, pooling: 'sum' })).toThrow(/arch\.pooling must be one of "mean", "cls", "max"; got "sum"/);
    expect(bad({ ...tiny, layers: [] })).toThrow(/arch\.layers must be an array of 1 to 4 layers; got 0 entries/);
    expect(bad({ ...tiny, layers: Array(5).fill({ heads: 1, ffnMult: 1 }) })).toThrow(/got 5 entries/);
    expect(bad({ ...tiny, layers: [{ heads: 3, ffnMult: 1 }] })).toThrow(/arch\.layers\[0\]\.heads must be one of 1, 2, 4; got 3/);
    expect(bad({ ...tiny, layers: [{ heads: 1 }] })).toThrow(/arch\.layers\[0\]\.ffnMult .* got nothing/);
    expect(bad({ ...tiny, dropout: 0.1 })).toThrow(/unknown field "dropout"/);
  });

  it('mutates one active decision to a different valid network, deterministically', () => {
    const rng = createRng(4);
    for (let i = 0; i < 300; i++) {
      const parent = space.sample(rng);
      const child = space.mutate(parent, rng);
      expect(space.key(child)).not.toBe(space.key(parent));
      expect(space.validate(child)).toEqual(child);
      // The parent is not modified in place.
      expect(space.validate(parent)).toEqual(parent);
      const depthChanged = child.layers.length !== parent.layers.length;
      const shared = Math.min(child.layers.length, parent.layers.length);
      const changes =
        (depthChanged ? 1 : 0) +
        (child.dModel !== parent.dModel ? 1 : 0) +
        (child.pooling !== parent.pooling ? 1 : 0) +
        (depthChanged ? 0 : child.layers.slice(0, shared).reduce((n, l, j) => n + (l.heads !== parent.layers[j]!.heads ? 1 : 0) + (l.ffnMult !== parent.layers[j]!.ffnMult ? 1 : 0), 0));
      expect(changes).toBe(1);
      if (depthChanged) expect(child.layers.slice(0, shared)).toEqual(parent.layers.slice(0, shared));
    }
    expect(space.mutate(modelB, createRng(9))).toEqual(space.mutate(modelB, createRng(9)));
  });

  it('crosses over fields and layers from either parent', () => {
    const rng = createRng(5);
    for (let i = 0; i < 200; i++) {
      const a = space.sample(rng);
      const b = space.sample(rng);
      const child = space.crossover!(a, b, rng);
      expect(space.validate(child)).toEqual(child);
      expect([a.dModel, b.dModel]).toContain(child.dModel);
      expect([a.pooling, b.pooling]).toContain(child.pooling);
      expect([a.layers.length, b.layers.length]).toContain(child.layers.length);
      child.layers.forEach((l, j) => expect([a.layers[j], b.layers[j]].filter(Boolean)).toContainEqual(l));
    }
  });

  it('keys ignore field order; labels read as width, pooling, heads×ffn', () => {
    const reordered = { layers: [{ ffnMult: 1, heads: 1 }], pooling: 'mean', dModel: 32 } as TransformerArch;
    expect(space.key(reordered)).toBe(space.key(tiny));
    expect(space.label!(modelB)).toBe('d64 mean 4h×2|4h×2');
  });
});

describe('transformer space: exact cost', () => {
  it('counts the tiny arch by hand', () => {
    // embedding 10·32 = 320; positions 4·32 = 128; attention 4·(32·32 + 32) = 4224; LN 64;
    // FFN 32·32+32 = 1056 twice; LN 64; dense 32·2+2 = 66.
    // MACs: projections 4·4·32·32 = 16,384; QKᵀ and AV 2·4·4·32 = 1024; FFN 2·4·32·32 = 8192; dense 64.
    expect(320 + 128 + 4224 + 64 + 2 * 1056 + 64 + 66).toBe(6978);
    expect(16_384 + 1024 + 8192 + 64).toBe(25_664);
    expect(space.cost(tiny, tinyTask)).toEqual({ params: 6978, macs: 25_664 });
  });

  it('counts a class token as one more position by hand', () => {
    // +32 token +32 position; MACs over 5 positions: 4·5·1024 + 2·25·32 + 2·5·1024 + 64.
    expect(space.cost({ ...tiny, pooling: 'cls' }, tinyTask)).toEqual({ params: 7042, macs: 20_480 + 1600 + 10_240 + 64 });
  });

  it('gives model B of the fast-training issue its stated 391,170 parameters', () => {
    // MACs per layer: 4·64·64² + 2·64²·64 + 2·64·64·128 = 2,621,440; two layers and dense 128.
    expect(space.cost(modelB, modelBTask)).toEqual({ params: 391_170, macs: 2 * 2_621_440 + 128 });
    const model = space.build(modelB, modelBTask);
    expect(trainable(model)).toBe(391_170);
    expect(model.countParams()).toBe(391_170);
    model.dispose();
  });

  it('agrees with countParams and the layer walker over many sampled archs', () => {
    const rng = createRng(6);
    const task: Task = { dataset: 'small-text', inputShape: [12], numClasses: 3, kind: 'text', vocabSize: 50 };
    for (let i = 0; i < 40; i++) {
      const arch = space.sample(rng);
      const model = space.build(arch, task);
      const detail = transformerCostDetail(arch, task);
      const walked = layersModelCost(model);
      expect(walked.uncounted).toEqual([]);
      expect(walked).toMatchObject({ params: detail.params, macs: detail.macs, stateParams: 0 });
      expect(model.countParams()).toBe(detail.params);
      model.dispose();
    }
  });

  it('refuses image tasks and text tasks without a vocabulary', () => {
    const image: Task = { dataset: 'fashion-mnist', inputShape: [28, 28, 1], numClasses: 10, kind: 'image' };
    expect(() => space.cost(tiny, image)).toThrow(/needs a text task.*fashion-mnist is image.*another --space/);
    expect(() => space.build(tiny, { ...tinyTask, vocabSize: undefined })).toThrow(UserError);
  });
});

describe('transformer space: build', () => {
  it('builds logits [batch, classes] for each pooling, with every head count', () => {
    const before = tf.memory().numTensors;
    for (const pooling of ['mean', 'cls', 'max'] as const) {
      const arch: TransformerArch = { dModel: 32, pooling, layers: [{ heads: 1, ffnMult: 2 }, { heads: 2, ffnMult: 1 }, { heads: 4, ffnMult: 4 }] };
      const model = space.build(arch, tinyTask);
      const x = tokens(3, 4, 10, 1);
      const y = model.predict(x) as tf.Tensor;
      expect(y.shape).toEqual([3, 2]);
      expect(Array.from(y.dataSync()).every(Number.isFinite)).toBe(true);
      tf.dispose([x, y]);
      model.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('attention mixes positions: changing one token changes the pooled class-token output', () => {
    const arch: TransformerArch = { dModel: 32, pooling: 'cls', layers: [{ heads: 2, ffnMult: 1 }] };
    const model = space.build(arch, tinyTask, { seed: 4 });
    const a = tf.tensor2d([[1, 2, 3, 4]], [1, 4], 'int32');
    const b = tf.tensor2d([[1, 2, 3, 9]], [1, 4], 'int32');
    const [ya, yb] = [model.predict(a) as tf.Tensor, model.predict(b) as tf.Tensor];
    expect(Array.from(ya.dataSync())).not.toEqual(Array.from(yb.dataSync()));
    tf.dispose([a, b, ya, yb]);
    model.dispose();
  });

  it('masks padding: a padded text gives the same logits as the unpadded text on a shorter model with the same weights', () => {
    for (const pooling of ['mean', 'max', 'cls'] as const) {
      const arch: TransformerArch = { dModel: 32, pooling, layers: [{ heads: 2, ffnMult: 2 }, { heads: 4, ffnMult: 1 }] };
      const long = space.build(arch, tinyTask, { seed: 5 });
      const short = space.build(arch, { ...tinyTask, inputShape: [2] });
      // Same weights; the position table keeps its first rows (2 tokens, plus the class token for cls).
      short.setWeights(long.getWeights().map((w, i) => (w.shape.length === 2 && w.shape[0] !== short.getWeights()[i]!.shape[0] ? w.slice([0, 0], short.getWeights()[i]!.shape as [number, number]) : w)));
      const padded = tf.tensor2d([[3, 4, 0, 0]], [1, 4], 'int32');
      const bare = tf.tensor2d([[3, 4]], [1, 2], 'int32');
      const [ya, yb] = [long.predict(padded) as tf.Tensor, short.predict(bare) as tf.Tensor];
      const [a, b] = [Array.from(ya.dataSync()), Array.from(yb.dataSync())];
      a.forEach((v, j) => expect(v, pooling).toBeCloseTo(b[j]!, 4));
      tf.dispose([padded, bare, ya, yb]);
      long.dispose();
      short.dispose();
    }
  });

  it('gives finite logits for a text that is all padding', () => {
    for (const pooling of ['mean', 'max', 'cls'] as const) {
      const model = space.build({ dModel: 32, pooling, layers: [{ heads: 2, ffnMult: 1 }] }, tinyTask);
      const x = tf.zeros([2, 4], 'int32');
      const y = model.predict(x) as tf.Tensor;
      expect(Array.from(y.dataSync()).every(Number.isFinite), pooling).toBe(true);
      tf.dispose([x, y]);
      model.dispose();
    }
  });

  it('trains: Adam steps lower the loss on a fixed batch without leaking per step', () => {
    const arch: TransformerArch = { dModel: 32, pooling: 'cls', layers: [{ heads: 2, ffnMult: 2 }] };
    const model = space.build(arch, tinyTask, { seed: 1 });
    const xs = tokens(8, 4, 10, 2);
    const ys = tf.oneHot(tf.tensor1d([0, 1, 0, 1, 0, 1, 0, 1], 'int32'), 2);
    const optimizer = tf.train.adam(0.01);
    const lossOf = () => tf.losses.softmaxCrossEntropy(ys, model.apply(xs, { training: true }) as tf.Tensor) as tf.Scalar;
    const losses: number[] = [];
    let afterFirst = 0;
    for (let step = 0; step < 5; step++) {
      const loss = optimizer.minimize(lossOf, true)!;
      losses.push(loss.dataSync()[0]!);
      loss.dispose();
      // Adam creates its moment slots on the first step; after that the count must stay flat.
      if (step === 0) afterFirst = tf.memory().numTensors;
      else expect(tf.memory().numTensors).toBe(afterFirst);
    }
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses[4]!).toBeLessThan(losses[0]!);
    tf.dispose([xs, ys]);
    optimizer.dispose();
    model.dispose();
  });

  it('is reproducible with a seed, and saves and loads its custom layers', async () => {
    const arch: TransformerArch = { dModel: 32, pooling: 'cls', layers: [{ heads: 4, ffnMult: 1 }, { heads: 2, ffnMult: 2 }] };
    const model = space.build(arch, tinyTask, { seed: 7 });
    const twin = space.build(arch, tinyTask, { seed: 7 });
    expect(twin.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(model.getWeights().map((w) => Array.from(w.dataSync())));
    twin.dispose();
    let artifacts: tf.io.ModelArtifacts | undefined;
    await model.save(tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }));
    const topology = JSON.stringify(artifacts!.modelTopology);
    for (const cls of ['GreennasSpaceSelfAttention', 'GreennasSpacePositionEmbedding', 'GreennasSpaceClassToken', 'GreennasSpaceFirstToken', 'GreennasSpacePaddingMask']) {
      expect(topology).toContain(cls);
    }
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts!));
    expect(loaded.countParams()).toBe(model.countParams());
    const x = tf.tensor2d([[1, 2, 0, 0], [5, 6, 7, 8]], [2, 4], 'int32');
    const [ya, yb] = [model.predict(x) as tf.Tensor, loaded.predict(x) as tf.Tensor];
    expect(Array.from(yb.dataSync())).toEqual(Array.from(ya.dataSync()));
    tf.dispose([x, ya, yb]);
    model.dispose();
    loaded.dispose();
    // The masked pooling layer round-trips too.
    const pooled = space.build({ ...arch, pooling: 'max' }, tinyTask, { seed: 8 });
    const copy = await tf.models.modelFromJSON(pooled.toJSON(null, false) as tf.io.ModelJSON['modelTopology'] & object);
    expect(JSON.stringify(copy.toJSON(null, false))).toContain('GreennasSpaceMaskedGlobalPooling');
    pooled.dispose();
    copy.dispose();
  });
});
