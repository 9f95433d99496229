import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeGates } from '../../src/compress/index.js';
import { buildMobilenet, mobilenetCostDetail, type MobilenetArch } from '../../search-spaces/mobilenet/index.js';

const task = { kind: 'image', dataset: 'fashion-mnist', inputShape: [28, 28], numClasses: 10 } as const;
const stage = (expand: 1 | 3 | 6, se: boolean, skip: 'none' | 'residual', layers: 1 | 2 = 1) => ({ layers, expand, kernel: 3 as const, se, skip });
const ARCH: MobilenetArch = { width: 0.5, stages: [stage(3, false, 'residual', 2), stage(3, true, 'none'), stage(1, true, 'none'), stage(6, true, 'residual', 2), stage(3, false, 'none')] };
const NO_SE: MobilenetArch = { ...ARCH, stages: ARCH.stages.map((s) => ({ ...s, se: false })) };

describe('removeGates', () => {
  let model: tf.LayersModel;
  let x: tf.Tensor;
  beforeAll(async () => {
    await tf.setBackend('cpu');
    model = buildMobilenet(ARCH, task, { seed: 4 });
    x = tf.randomUniform([2, 28, 28], 0, 1, 'float32', 9);
  });
  afterAll(() => {
    model.dispose();
    x.dispose();
  });

  it('removes every SE gate and leaves the network the same space builds without them, with the same weights', () => {
    const before = tf.memory().numTensors;
    const r = removeGates(model);
    const plain = buildMobilenet(NO_SE, task, { seed: 99 });
    try {
      // Stage 2 (1 layer), stage 3 (1) and stage 4 (2 layers) have gates.
      expect(r.gates).toHaveLength(4);
      expect(r.model.layers.some((l) => l.getClassName() === 'Multiply' || l.name.includes('_se_'))).toBe(false);
      expect(r.paramsBefore).toBe(mobilenetCostDetail(ARCH, task).params);
      expect(r.paramsAfter).toBe(mobilenetCostDetail(NO_SE, task).params);
      expect(r.macsAfter).toBeLessThan(r.macsBefore);
      // Same layers by name as the plain build: give it the kept weights and both compute the same.
      expect(r.model.layers.map((l) => l.name).sort()).toEqual(plain.layers.map((l) => l.name).sort());
      for (const l of plain.layers) l.setWeights(r.model.getLayer(l.name).getWeights());
      const [a, b] = [r.model.predict(x) as tf.Tensor, plain.predict(x) as tf.Tensor];
      expect(tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] as number)).toBeLessThan(1e-6);
      // The kept layers keep the parent's weights.
      const name = 's4_l1_expand';
      const [w0, w1] = [model.getLayer(name).getWeights()[0]!, r.model.getLayer(name).getWeights()[0]!];
      expect(tf.tidy(() => tf.max(tf.abs(tf.sub(w0, w1))).dataSync()[0] as number)).toBe(0);
      tf.dispose([a, b]);
    } finally {
      r.model.dispose();
      plain.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('leaves a model without gates as it was', () => {
    const plain = buildMobilenet(NO_SE, task, { seed: 2 });
    const r = removeGates(plain);
    try {
      expect(r.gates).toEqual([]);
      expect(r.paramsAfter).toBe(r.paramsBefore);
      const [a, b] = [plain.predict(x) as tf.Tensor, r.model.predict(x) as tf.Tensor];
      expect(tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] as number)).toBe(0);
      tf.dispose([a, b]);
    } finally {
      r.model.dispose();
      plain.dispose();
    }
  });
});
