import * as tf from '@tensorflow/tfjs';
import { addCosts, batchNormCost, conv2dCost, convOutputSize, denseCost, zeroCost, type CostTally, type Task } from '../space/index.js';
import { initialisers, torchBatchNorm, type BaselineBuildOptions } from './resnet50.js';
import { imageSize, makeDivisible, scaledChannels, scaledCount, type ScaledVariant } from './variant.js';

/*
 * MobileNetV2 as torchvision defines it: 3×3/2 stem (32 channels) + BN + ReLU6, seven stages of
 * inverted residuals (expansion t, output channels c, repeats n, first stride s), a 1×1 conv to 1280
 * channels + BN + ReLU6, global average pooling and a biased linear classifier (dropout has no
 * weights). Channel counts go through `_make_divisible(·, 8)`; the last conv is never narrowed.
 */

/** The reference inverted-residual settings: expansion, output channels, repeats, first stride. */
export const MOBILENETV2_SETTINGS: readonly { t: number; c: number; n: number; s: number }[] = [
  { t: 1, c: 16, n: 1, s: 1 },
  { t: 6, c: 24, n: 2, s: 2 },
  { t: 6, c: 32, n: 3, s: 2 },
  { t: 6, c: 64, n: 4, s: 2 },
  { t: 6, c: 96, n: 3, s: 1 },
  { t: 6, c: 160, n: 3, s: 2 },
  { t: 6, c: 320, n: 1, s: 1 },
];
/** Stem channels of the reference network. */
export const MOBILENETV2_STEM = 32;
/** Channels of the last 1×1 convolution of the reference network. */
export const MOBILENETV2_LAST = 1280;

/** One inverted residual with every shape resolved. */
export interface InvertedResidualPlan {
  stage: number;
  block: number;
  inH: number;
  inW: number;
  inC: number;
  /** Channels after the 1×1 expansion (inC when t = 1 and there is no expansion conv). */
  hiddenC: number;
  outC: number;
  stride: number;
  /** Whether a 1×1 expansion convolution exists (t ≠ 1). */
  expand: boolean;
  /** Identity residual (stride 1 and unchanged channels). */
  residual: boolean;
}

/** The resolved network for one task. */
export interface Mobilenetv2Plan {
  inH: number;
  inW: number;
  inC: number;
  stemC: number;
  stemH: number;
  stemW: number;
  blocks: InvertedResidualPlan[];
  /** Input channels and size of the last 1×1 convolution, and its output channels. */
  lastInC: number;
  lastH: number;
  lastW: number;
  lastC: number;
  numClasses: number;
}

/** Resolves a (scaled) MobileNetV2 against an image task. */
export function planMobilenetv2(variant: ScaledVariant, task: Task): Mobilenetv2Plan {
  const [inH, inW, inC] = imageSize(task, 'mobilenetv2');
  const stemC = scaledChannels(MOBILENETV2_STEM, variant.width);
  const stemH = convOutputSize(inH, 3, 2, 'same');
  const stemW = convOutputSize(inW, 3, 2, 'same');
  let h = stemH;
  let w = stemW;
  let c = stemC;
  const blocks: InvertedResidualPlan[] = [];
  MOBILENETV2_SETTINGS.forEach(({ t, c: base, n, s }, stage) => {
    const outC = scaledChannels(base, variant.width);
    const count = scaledCount(n, variant.depth);
    for (let block = 0; block < count; block++) {
      const stride = block === 0 ? s : 1;
      blocks.push({ stage, block, inH: h, inW: w, inC: c, hiddenC: Math.round(c * t), outC, stride, expand: t !== 1, residual: stride === 1 && c === outC });
      h = convOutputSize(h, 3, stride, 'same');
      w = convOutputSize(w, 3, stride, 'same');
      c = outC;
    }
  });
  const lastC = makeDivisible(MOBILENETV2_LAST * Math.max(1, variant.width));
  return { inH, inW, inC, stemC, stemH, stemW, blocks, lastInC: c, lastH: h, lastW: w, lastC, numClasses: task.numClasses };
}

function invertedResidualCost(b: InvertedResidualPlan): CostTally {
  const parts: CostTally[] = [];
  if (b.expand) parts.push(conv2dCost({ inH: b.inH, inW: b.inW, inC: b.inC, outC: b.hiddenC, kernel: 1, stride: 1, useBias: false }), batchNormCost(b.hiddenC));
  parts.push(conv2dCost({ inH: b.inH, inW: b.inW, inC: b.hiddenC, outC: b.hiddenC, kernel: 3, stride: b.stride, useBias: false, depthwise: true }), batchNormCost(b.hiddenC));
  const outH = convOutputSize(b.inH, 3, b.stride, 'same');
  const outW = convOutputSize(b.inW, 3, b.stride, 'same');
  parts.push(conv2dCost({ inH: outH, inW: outW, inC: b.hiddenC, outC: b.outC, kernel: 1, stride: 1, useBias: false }), batchNormCost(b.outC));
  return addCosts(...parts);
}

/** Exact trainable parameters, multiply-adds per sample and BatchNormalization state of a (scaled) MobileNetV2 on a task. */
export function mobilenetv2Cost(variant: ScaledVariant, task: Task): CostTally {
  const p = planMobilenetv2(variant, task);
  return addCosts(
    conv2dCost({ inH: p.inH, inW: p.inW, inC: p.inC, outC: p.stemC, kernel: 3, stride: 2, useBias: false }),
    batchNormCost(p.stemC),
    ...p.blocks.map(invertedResidualCost),
    conv2dCost({ inH: p.lastH, inW: p.lastW, inC: p.lastInC, outC: p.lastC, kernel: 1, stride: 1, useBias: false }),
    batchNormCost(p.lastC),
    p.numClasses > 0 ? denseCost(p.lastC, p.numClasses) : zeroCost(),
  );
}

/** Builds a (scaled) MobileNetV2 as a tfjs LayersModel that outputs logits for the task's classes. */
export function buildMobilenetv2(variant: ScaledVariant, task: Task, options: BaselineBuildOptions = {}): tf.LayersModel {
  const p = planMobilenetv2(variant, task);
  const init = initialisers(options.seed);
  const conv = (x: tf.SymbolicTensor, filters: number, kernel: number, stride: number, name: string) =>
    tf.layers.conv2d({ filters, kernelSize: kernel, strides: stride, padding: 'same', useBias: false, kernelInitializer: init.he(), name }).apply(x) as tf.SymbolicTensor;
  const relu6 = (x: tf.SymbolicTensor, name: string) => tf.layers.reLU({ maxValue: 6, name }).apply(x) as tf.SymbolicTensor;
  const input = tf.input({ shape: task.inputShape, name: 'image' });
  let x = input;
  if (task.inputShape.length === 2) x = tf.layers.reshape({ targetShape: [p.inH, p.inW, 1], name: 'to_hwc' }).apply(x) as tf.SymbolicTensor;
  x = relu6(torchBatchNorm(conv(x, p.stemC, 3, 2, 'stem_conv'), 'stem_bn'), 'stem_relu6');
  for (const b of p.blocks) {
    const name = `ir${b.stage + 1}_${b.block}`;
    let y = x;
    if (b.expand) y = relu6(torchBatchNorm(conv(y, b.hiddenC, 1, 1, `${name}_expand`), `${name}_expand_bn`), `${name}_expand_relu6`);
    y = tf.layers.depthwiseConv2d({ kernelSize: 3, strides: b.stride, padding: 'same', useBias: false, depthwiseInitializer: init.he(), name: `${name}_dw` }).apply(y) as tf.SymbolicTensor;
    y = relu6(torchBatchNorm(y, `${name}_dw_bn`), `${name}_dw_relu6`);
    y = torchBatchNorm(conv(y, b.outC, 1, 1, `${name}_project`), `${name}_project_bn`);
    x = b.residual ? (tf.layers.add({ name: `${name}_add` }).apply([x, y]) as tf.SymbolicTensor) : y;
  }
  x = relu6(torchBatchNorm(conv(x, p.lastC, 1, 1, 'last_conv'), 'last_bn'), 'last_relu6');
  x = tf.layers.globalAveragePooling2d({ name: 'pool' }).apply(x) as tf.SymbolicTensor;
  const logits = tf.layers.dense({ units: p.numClasses, kernelInitializer: init.glorot(), name: 'classifier' }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: logits, name: 'mobilenetv2' });
}
