import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { UserError, createRng } from '../../src/core/index.js';
import { layersModelCost, type Task } from '../../src/space/index.js';
import {
  BASELINES,
  BERT_BASE_CONFIG,
  DISTILBERT_CONFIG,
  FULL_SIZE,
  PROXY_VARIANTS,
  baselineByName,
  baselineSpace,
  bertCost,
  buildBert,
  referenceCost,
  type BaselineDefinition,
} from '../../src/baselines/index.js';

/** Published parameter counts: torchvision resnet50 / mobilenet_v2 (1000-class head), Hugging Face base models without heads. */
const PUBLISHED_PARAMS: Record<string, number> = {
  resnet50: 25_557_032,
  mobilenetv2: 3_504_872,
  'bert-base': 109_482_240,
  distilbert: 66_362_880,
};

const fashion: Task = { dataset: 'fashion-mnist', inputShape: [28, 28, 1], numClasses: 10, kind: 'image' };
const spam: Task = { dataset: 'spam-assassin', inputShape: [64], numClasses: 2, kind: 'text', vocabSize: 500 };

function def(name: string): BaselineDefinition {
  return baselineByName(name) as BaselineDefinition;
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('baselines: reference counts', () => {
  it('match the published parameter counts exactly', () => {
    for (const b of BASELINES) expect([b.name, referenceCost(b).params]).toEqual([b.name, PUBLISHED_PARAMS[b.name]]);
  });

  it('bert-base parameters add up from the published config, term by term', () => {
    const d = 768;
    const embeddings = 30522 * d + 512 * d + 2 * d + 2 * d;
    const layer = 4 * (d * d + d) + 2 * d + (d * 3072 + 3072) + (3072 * d + d) + 2 * d;
    expect(embeddings + 12 * layer + (d * d + d)).toBe(PUBLISHED_PARAMS['bert-base']);
    expect(30522 * d + 512 * d + 2 * d + 6 * layer).toBe(PUBLISHED_PARAMS['distilbert']);
    expect(bertCost(BERT_BASE_CONFIG, { ...spam, inputShape: [128], vocabSize: 30522 }, { head: false }).params).toBe(PUBLISHED_PARAMS['bert-base']);
  });

  const python = '/usr/bin/python3';
  const hasTorch = existsSync(python) && (() => {
    try {
      execFileSync(python, ['-c', 'import torch'], { stdio: 'ignore', timeout: 60_000 });
      return true;
    } catch {
      return false;
    }
  })();
  it.skipIf(!hasTorch)('equal params and multiply-adds of torch rebuilds of the reference models (224×224×3, sequence 128)', () => {
    const script = fileURLToPath(new URL('./reference_counts.py', import.meta.url));
    const torchCounts = JSON.parse(execFileSync('nice', ['-n', '19', python, script], { encoding: 'utf8', timeout: 180_000 })) as Record<string, { params: number; macs: number }>;
    for (const b of BASELINES) {
      const { params, macs } = referenceCost(b);
      expect({ name: b.name, params, macs }).toEqual({ name: b.name, ...torchCounts[b.name] });
    }
  }, 200_000);
});

describe('baselines: built models count what the analytic cost says', () => {
  it('full-size ResNet-50 at 224×224×3 (25.6 M params, BN state apart)', () => {
    const b = def('resnet50');
    const model = b.build(FULL_SIZE, b.referenceTask, { seed: 1 });
    try {
      const built = layersModelCost(model);
      const cost = b.cost(FULL_SIZE, b.referenceTask);
      expect(built.uncounted).toEqual([]);
      expect({ params: built.params, macs: built.macs, state: built.stateParams }).toEqual({ params: cost.params, macs: cost.macs, state: cost.stateParams });
      expect(built.params).toBe(PUBLISHED_PARAMS['resnet50']);
    } finally {
      model.dispose();
    }
  });

  it('full-size MobileNetV2 at 224×224×3', () => {
    const b = def('mobilenetv2');
    const model = b.build(FULL_SIZE, b.referenceTask, { seed: 1 });
    try {
      const built = layersModelCost(model);
      expect(built.uncounted).toEqual([]);
      expect(built.params).toBe(PUBLISHED_PARAMS['mobilenetv2']);
      expect(built.macs).toBe(b.cost(FULL_SIZE, b.referenceTask).macs);
    } finally {
      model.dispose();
    }
  });

  it('BERT encoders with every part (token types, 512-row positions, pooler) at a reduced width count as the analytic formula says', () => {
    // Full bert-base would allocate ~440 MB here; the same code at width 128 exercises every layer kind.
    const task: Task = { ...spam, inputShape: [128], vocabSize: 1000 };
    for (const ref of [BERT_BASE_CONFIG, DISTILBERT_CONFIG]) {
      const config = { ...ref, hidden: 128, heads: 2, ffn: 512, layers: 2 };
      const model = buildBert(config, task, 'bert_test', { seed: 3 });
      try {
        const built = layersModelCost(model);
        const cost = bertCost(config, task);
        expect(built.uncounted).toEqual([]);
        expect({ params: built.params, macs: built.macs }).toEqual({ params: cost.params, macs: cost.macs });
      } finally {
        model.dispose();
      }
    }
  });

  it('every proxy variant builds for its dataset with the space cost, and predicts without leaking tensors', () => {
    for (const b of BASELINES) {
      const task = b.kind === 'image' ? fashion : spam;
      const arch = { model: b.name, ...PROXY_VARIANTS[b.name] } as never;
      const model = baselineSpace.build(arch, task, { seed: 2 });
      try {
        const built = layersModelCost(model);
        expect([b.name, built.params, built.macs]).toEqual([b.name, baselineSpace.cost(arch, task).params, baselineSpace.cost(arch, task).macs]);
        expect(built.params).toBeLessThan(b.cost(FULL_SIZE, task).params);
        const before = tf.memory().numTensors;
        const x = b.kind === 'image' ? tf.zeros([2, 28, 28, 1]) : tf.tensor2d(Array.from({ length: 128 }, (_, i) => (i % 7)), [2, 64], 'int32');
        const y = model.predict(x) as tf.Tensor;
        expect(y.shape).toEqual([2, task.numClasses]);
        expect(Array.from(y.dataSync()).every(Number.isFinite)).toBe(true);
        tf.dispose([x, y]);
        expect(tf.memory().numTensors).toBe(before);
      } finally {
        model.dispose();
      }
    }
  });

  it('full-size vision baselines at Fashion-MNIST size keep the reference layout (only the stem input channels and head change)', () => {
    const r = def('resnet50').cost(FULL_SIZE, fashion);
    // conv1 sees 1 channel instead of 3 (2 × 49 × 64 weights fewer), fc has 10 outputs instead of 1000.
    expect(r.params).toBe(PUBLISHED_PARAMS['resnet50']! - 2 * 49 * 64 - 990 * 2048 - 990);
  });
});

describe('baseline space', () => {
  it('validates architectures and names the bad field', () => {
    expect(baselineSpace.validate({ model: 'resnet50', width: 0.25, depth: 1 })).toEqual({ model: 'resnet50', width: 0.25, depth: 1 });
    expect(() => baselineSpace.validate({ model: 'vgg16', width: 1, depth: 1 })).toThrow(/arch\.model/);
    expect(() => baselineSpace.validate({ model: 'resnet50', width: 0.3, depth: 1 })).toThrow(UserError);
  });

  it('refuses a text baseline on an image task with a user error', () => {
    expect(() => baselineSpace.cost({ model: 'bert-base', width: 1, depth: 1 }, fashion)).toThrow(/text task/);
    expect(() => baselineSpace.cost({ model: 'resnet50', width: 1, depth: 1 }, spam)).toThrow(/image task/);
  });

  it('encodes, decodes, samples and mutates inside its decisions', () => {
    const rng = createRng(4);
    for (let i = 0; i < 20; i++) {
      const a = baselineSpace.sample(rng);
      expect(baselineSpace.decode(baselineSpace.encode(a))).toEqual(a);
      expect(baselineSpace.key(baselineSpace.mutate(a, rng))).not.toBe(baselineSpace.key(a));
    }
    expect(baselineSpace.label?.({ model: 'mobilenetv2', width: 1, depth: 1 })).toBe('MobileNetV2');
    expect(baselineSpace.label?.({ model: 'resnet50', width: 0.25, depth: 0.5 })).toBe('ResNet-50 ×0.25w ×0.5d');
  });
});
