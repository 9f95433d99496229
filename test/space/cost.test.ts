import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../../src/core/index.js';
import {
  addCosts,
  batchNormCost,
  canonicalJson,
  checkChoice,
  checkKeys,
  conv2dCost,
  convOutputSize,
  costMetricValues,
  denseCost,
  layersModelCost,
  selfAttentionCost,
} from '../../src/space/index.js';
import { MultiHeadSelfAttention } from '../../src/space/layers/index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('counting primitives', () => {
  it('matches tfjs output sizes for same and valid padding', () => {
    expect([convOutputSize(28, 3, 1, 'same'), convOutputSize(28, 3, 2, 'same'), convOutputSize(7, 3, 2, 'same')]).toEqual([28, 14, 4]);
    expect([convOutputSize(28, 3, 1, 'valid'), convOutputSize(28, 5, 2, 'valid')]).toEqual([26, 12]);
  });

  it('counts convolutions, dense maps, batch norm and attention by hand', () => {
    // 3×3, 4→8 on 10×10, stride 2, bias: 9·4·8 + 8 = 296 params; 5·5·9·4·8 = 7200 MACs.
    expect(conv2dCost({ inH: 10, inW: 10, inC: 4, outC: 8, kernel: 3, stride: 2, useBias: true })).toEqual({ params: 296, macs: 7200, stateParams: 0 });
    // depthwise 5×5 on 6 channels, 7×7, no bias: 150 params; 49·150 = 7350 MACs.
    expect(conv2dCost({ inH: 7, inW: 7, inC: 6, outC: 6, kernel: 5, stride: 1, useBias: false, depthwise: true })).toEqual({ params: 150, macs: 7350, stateParams: 0 });
    expect(() => conv2dCost({ inH: 7, inW: 7, inC: 6, outC: 9, kernel: 3, stride: 1, useBias: false, depthwise: true })).toThrow(RangeError);
    expect(denseCost(16, 4, true, 3)).toEqual({ params: 68, macs: 192, stateParams: 0 });
    expect(batchNormCost(5)).toEqual({ params: 10, macs: 0, stateParams: 10 });
    // t=3, d=8: 4·(64+8) = 288 params; 4·3·64 + 2·9·8 = 912 MACs.
    expect(selfAttentionCost(3, 8)).toEqual({ params: 288, macs: 912, stateParams: 0 });
    expect(addCosts(batchNormCost(5), denseCost(2, 2))).toEqual({ params: 16, macs: 4, stateParams: 10 });
    expect(costMetricValues({ params: 3, macs: 4 })).toEqual([
      { name: 'params', value: 3, unit: 'count', source: 'computed' },
      { name: 'macs', value: 4, unit: 'count', source: 'computed' },
    ]);
  });
});

describe('layersModelCost', () => {
  it("counts reference model A of the fast-training issue: 43,770 parameters and 6,220,896 MACs", () => {
    // Built here from its description so this test does not depend on the trainer module.
    const input = tf.input({ shape: [28, 28, 1] });
    const bnRelu = (x: tf.SymbolicTensor, relu: boolean) => {
      const y = tf.layers.batchNormalization({}).apply(x) as tf.SymbolicTensor;
      return relu ? (tf.layers.reLU({ maxValue: 6 }).apply(y) as tf.SymbolicTensor) : y;
    };
    let x = bnRelu(tf.layers.conv2d({ filters: 16, kernelSize: 3, padding: 'same', useBias: false }).apply(input) as tf.SymbolicTensor, true);
    let c = 16;
    for (const [out, stride] of [[16, 1], [24, 2], [24, 1], [32, 2], [32, 1], [64, 1]] as const) {
      let y = bnRelu(tf.layers.conv2d({ filters: 4 * c, kernelSize: 1, useBias: false }).apply(x) as tf.SymbolicTensor, true);
      y = bnRelu(tf.layers.depthwiseConv2d({ kernelSize: 3, strides: stride, padding: 'same', useBias: false }).apply(y) as tf.SymbolicTensor, true);
      y = bnRelu(tf.layers.conv2d({ filters: out, kernelSize: 1, useBias: false }).apply(y) as tf.SymbolicTensor, false);
      x = stride === 1 && out === c ? (tf.layers.add().apply([x, y]) as tf.SymbolicTensor) : y;
      c = out;
    }
    x = tf.layers.globalAveragePooling2d({}).apply(x) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: tf.layers.dense({ units: 10 }).apply(x) as tf.SymbolicTensor });
    // Hand count of MACs: stem 28²·9·16 = 112,896; blocks 2,057,216 + 1,216,768 + 1,072,512 + 644,448
    // + 457,856 + 658,560; dense 640.
    const macs = 112_896 + 2_057_216 + 1_216_768 + 1_072_512 + 644_448 + 457_856 + 658_560 + 640;
    expect(macs).toBe(6_220_896);
    const cost = layersModelCost(model);
    expect(cost).toEqual({ params: 43_770, macs, stateParams: model.countParams() - 43_770, uncounted: [] });
    model.dispose();
  });

  it('uses a custom layer’s own count and lists layers with weights it cannot count', () => {
    const input = tf.input({ shape: [5, 8] });
    const attn = new MultiHeadSelfAttention({ numHeads: 2 }).apply(input) as tf.SymbolicTensor;
    const conv = tf.layers.conv1d({ filters: 4, kernelSize: 3, name: 'c1' }).apply(attn) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: conv });
    const cost = layersModelCost(model);
    expect(cost.macs).toBe(4 * 5 * 64 + 2 * 25 * 8);
    expect(cost.params).toBe(4 * (64 + 8) + 3 * 8 * 4 + 4);
    expect(cost.uncounted).toEqual(['c1 (Conv1D)']);
    model.dispose();
  });
});

describe('architecture helpers', () => {
  it('writes canonical JSON with sorted keys at every depth', () => {
    expect(canonicalJson({ b: [{ d: 1, c: 2 }], a: 'x' })).toBe('{"a":"x","b":[{"c":2,"d":1}]}');
    expect(canonicalJson({ a: null, b: true })).toBe(canonicalJson({ b: true, a: null }));
  });

  it('names the field, the choices and the value', () => {
    expect(checkChoice('my space', 'arch.k', 5, [3, 5])).toBe(5);
    expect(() => checkChoice('my space', 'arch.k', '5', [3, 5])).toThrow(UserError);
    expect(() => checkChoice('my space', 'arch.k', '5', [3, 5])).toThrow('my space: arch.k must be one of 3, 5; got "5". Fix the architecture JSON.');
    expect(() => checkKeys('my space', 'arch', { a: 1, b: 2, c: 3 }, ['a'])).toThrow(/arch has unknown fields "b", "c"; allowed fields are a/);
  });
});
