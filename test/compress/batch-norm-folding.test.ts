import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { foldBatchNorms } from '../../src/compress/index.js';
import { buildMobilenet, type MobilenetArch } from '../../search-spaces/mobilenet/index.js';

const task = { kind: 'image', dataset: 'fashion-mnist', inputShape: [28, 28], numClasses: 10 } as const;
const BN_CLASSES = ['BatchNormalization', 'GreennasFusedBatchNormalization'];
const ARCH: MobilenetArch = {
  width: 0.5,
  stages: [1, 2, 3, 4, 5].map((i) => ({ layers: (i % 2 ? 2 : 1) as 1 | 2, expand: (i === 3 ? 1 : 3) as 1 | 3, kernel: 3 as const, se: i === 2, skip: 'residual' as const })),
};

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('foldBatchNorms', () => {
  it('folds every conv → BN (→ ReLU6) into the convolution: same outputs in inference mode, fewer layers', () => {
    const model = buildMobilenet(ARCH, task, { seed: 5 });
    for (const l of model.layers.filter((x) => BN_CLASSES.includes(x.getClassName()))) {
      l.setWeights(l.getWeights().map((w, i) => tf.add(i === 3 ? 0.5 : 0, tf.randomUniform(w.shape, 0.1, 0.9, 'float32', i + 3))));
    }
    const before = tf.memory().numTensors;
    const r = foldBatchNorms(model);
    try {
      const bns = model.layers.filter((l) => BN_CLASSES.includes(l.getClassName())).length;
      expect(r.foldedBatchNorms).toBe(bns);
      expect(r.model.layers.filter((l) => BN_CLASSES.includes(l.getClassName()))).toHaveLength(0);
      expect(r.model.layers.filter((l) => l.getClassName() === 'ReLU')).toHaveLength(0);
      // The space fuses ReLU6 into its batch norms, so folding removes the BN layers and no separate activation layer.
      const separateActivations = model.layers.filter((l) => l.getClassName() === 'ReLU').length;
      expect(r.layersAfter).toBe(r.layersBefore - r.foldedBatchNorms - separateActivations);
      expect(r.model.getLayer('stem_conv').getConfig()).toMatchObject({ activation: 'relu6', useBias: true });
      expect(r.model.getLayer('s1_l1_project').getConfig()).toMatchObject({ activation: 'linear', useBias: true });
      const x = tf.randomUniform([3, 28, 28], 0, 1, 'float32', 9);
      const [a, b] = [model.predict(x) as tf.Tensor, r.model.predict(x) as tf.Tensor];
      expect(tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0])).toBeLessThan(1e-4);
      tf.dispose([a, b, x]);
    } finally {
      r.model.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('leaves a batch norm alone when something else also reads the convolution', () => {
    const input = tf.input({ shape: [6, 6, 2] });
    const c = tf.layers.conv2d({ filters: 3, kernelSize: 1, name: 'c' }).apply(input) as tf.SymbolicTensor;
    const bn = tf.layers.batchNormalization({ name: 'bn' }).apply(c) as tf.SymbolicTensor;
    const sum = tf.layers.add().apply([c, bn]) as tf.SymbolicTensor;
    const m = tf.model({ inputs: input, outputs: sum });
    const r = foldBatchNorms(m);
    expect(r.foldedBatchNorms).toBe(0);
    expect(r.layersAfter).toBe(r.layersBefore);
    r.model.dispose();
    m.dispose();
  });
});
