import * as tf from '@tensorflow/tfjs';
import { addCosts, batchNormCost, conv2dCost, convOutputSize, denseCost, zeroCost, type CostTally, type Task } from '../space/index.js';
import { imageSize, scaledCount, scaledChannels, type ScaledVariant } from './variant.js';

/*
 * ResNet-50 as torchvision defines it (v1.5: the stride sits in the 3×3 convolution of a bottleneck):
 * 7×7/2 stem + BN + ReLU + 3×3/2 max pool, four stages of [3, 4, 6, 3] bottlenecks (1×1 → 3×3 → 1×1
 * with expansion 4, a 1×1 projection + BN on the shortcut where shape changes), global average pool
 * and a biased linear classifier. Convolutions have no bias; BatchNormalization counts gamma and beta
 * as parameters and its running statistics as state, as torch does.
 */

/** Bottlenecks per stage of the reference network. */
export const RESNET50_BLOCKS = [3, 4, 6, 3] as const;
/** Bottleneck widths (3×3 channels) per stage of the reference network; outputs are 4× these. */
export const RESNET50_WIDTHS = [64, 128, 256, 512] as const;
/** Output channels of a bottleneck relative to its inner width. */
export const RESNET50_EXPANSION = 4;
/** Stem channels of the reference network. */
export const RESNET50_STEM = 64;

/** One bottleneck with every shape resolved (shared by build and cost, so they cannot disagree). */
export interface BottleneckPlan {
  /** Stage (0-based) and block within it. */
  stage: number;
  block: number;
  /** Input height, width and channels. */
  inH: number;
  inW: number;
  inC: number;
  /** Inner width of the 1×1 and 3×3 convolutions. */
  midC: number;
  /** Output channels (midC × expansion). */
  outC: number;
  /** Stride of the 3×3 convolution and of the shortcut projection. */
  stride: number;
  /** Whether the shortcut is a 1×1 convolution + BN (shape changes) rather than the identity. */
  project: boolean;
}

/** The resolved network for one task. */
export interface Resnet50Plan {
  inH: number;
  inW: number;
  inC: number;
  /** Stem channels. */
  stemC: number;
  /** Spatial size after the stem convolution (before max pooling). */
  stemH: number;
  stemW: number;
  blocks: BottleneckPlan[];
  /** Channels into global average pooling. */
  headC: number;
  numClasses: number;
}

/** Resolves a (scaled) ResNet-50 against an image task. */
export function planResnet50(variant: ScaledVariant, task: Task): Resnet50Plan {
  const [inH, inW, inC] = imageSize(task, 'resnet50');
  const stemC = scaledChannels(RESNET50_STEM, variant.width);
  const stemH = convOutputSize(inH, 7, 2, 'same');
  const stemW = convOutputSize(inW, 7, 2, 'same');
  let h = convOutputSize(stemH, 3, 2, 'same');
  let w = convOutputSize(stemW, 3, 2, 'same');
  let c = stemC;
  const blocks: BottleneckPlan[] = [];
  RESNET50_BLOCKS.forEach((n, stage) => {
    const midC = scaledChannels(RESNET50_WIDTHS[stage]!, variant.width);
    const outC = midC * RESNET50_EXPANSION;
    const count = scaledCount(n, variant.depth);
    for (let block = 0; block < count; block++) {
      const stride = block === 0 && stage > 0 ? 2 : 1;
      blocks.push({ stage, block, inH: h, inW: w, inC: c, midC, outC, stride, project: stride !== 1 || c !== outC });
      h = convOutputSize(h, 3, stride, 'same');
      w = convOutputSize(w, 3, stride, 'same');
      c = outC;
    }
  });
  return { inH, inW, inC, stemC, stemH, stemW, blocks, headC: c, numClasses: task.numClasses };
}

function bottleneckCost(b: BottleneckPlan): CostTally {
  const outH = convOutputSize(b.inH, 3, b.stride, 'same');
  const outW = convOutputSize(b.inW, 3, b.stride, 'same');
  const parts = [
    conv2dCost({ inH: b.inH, inW: b.inW, inC: b.inC, outC: b.midC, kernel: 1, stride: 1, useBias: false }),
    batchNormCost(b.midC),
    conv2dCost({ inH: b.inH, inW: b.inW, inC: b.midC, outC: b.midC, kernel: 3, stride: b.stride, useBias: false }),
    batchNormCost(b.midC),
    conv2dCost({ inH: outH, inW: outW, inC: b.midC, outC: b.outC, kernel: 1, stride: 1, useBias: false }),
    batchNormCost(b.outC),
  ];
  if (b.project) {
    parts.push(conv2dCost({ inH: b.inH, inW: b.inW, inC: b.inC, outC: b.outC, kernel: 1, stride: b.stride, useBias: false }), batchNormCost(b.outC));
  }
  return addCosts(...parts);
}

/** Exact trainable parameters, multiply-adds per sample and BatchNormalization state of a (scaled) ResNet-50 on a task. */
export function resnet50Cost(variant: ScaledVariant, task: Task): CostTally {
  const p = planResnet50(variant, task);
  return addCosts(
    conv2dCost({ inH: p.inH, inW: p.inW, inC: p.inC, outC: p.stemC, kernel: 7, stride: 2, useBias: false }),
    batchNormCost(p.stemC),
    ...p.blocks.map(bottleneckCost),
    p.numClasses > 0 ? denseCost(p.headC, p.numClasses) : zeroCost(),
  );
}

/** Options of the baseline builders. */
export interface BaselineBuildOptions {
  /** Seed for the weight initialisers, so a build is reproducible; unseeded when absent. */
  seed?: number;
}

/** A seeded initialiser factory: each call takes the next seed. */
export function initialisers(seed: number | undefined): { he: () => ReturnType<typeof tf.initializers.heNormal>; glorot: () => ReturnType<typeof tf.initializers.glorotUniform> } {
  let s = seed;
  const next = (): { seed?: number } => (s === undefined ? {} : { seed: s++ });
  return { he: () => tf.initializers.heNormal(next()), glorot: () => tf.initializers.glorotUniform(next()) };
}

/** BatchNormalization with torch's defaults (momentum 0.1 of the new batch, epsilon 1e-5). */
export function torchBatchNorm(x: tf.SymbolicTensor, name: string): tf.SymbolicTensor {
  return tf.layers.batchNormalization({ axis: -1, momentum: 0.9, epsilon: 1e-5, name }).apply(x) as tf.SymbolicTensor;
}

/** Builds a (scaled) ResNet-50 as a tfjs LayersModel that outputs logits for the task's classes. */
export function buildResnet50(variant: ScaledVariant, task: Task, options: BaselineBuildOptions = {}): tf.LayersModel {
  const p = planResnet50(variant, task);
  const init = initialisers(options.seed);
  const conv = (x: tf.SymbolicTensor, filters: number, kernel: number, stride: number, name: string) =>
    tf.layers.conv2d({ filters, kernelSize: kernel, strides: stride, padding: 'same', useBias: false, kernelInitializer: init.he(), name }).apply(x) as tf.SymbolicTensor;
  const relu = (x: tf.SymbolicTensor, name: string) => tf.layers.reLU({ name }).apply(x) as tf.SymbolicTensor;
  const input = tf.input({ shape: task.inputShape, name: 'image' });
  let x = input;
  if (task.inputShape.length === 2) x = tf.layers.reshape({ targetShape: [p.inH, p.inW, 1], name: 'to_hwc' }).apply(x) as tf.SymbolicTensor;
  x = relu(torchBatchNorm(conv(x, p.stemC, 7, 2, 'conv1'), 'bn1'), 'relu1');
  x = tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same', name: 'maxpool' }).apply(x) as tf.SymbolicTensor;
  for (const b of p.blocks) {
    const name = `layer${b.stage + 1}_${b.block}`;
    let y = relu(torchBatchNorm(conv(x, b.midC, 1, 1, `${name}_conv1`), `${name}_bn1`), `${name}_relu1`);
    y = relu(torchBatchNorm(conv(y, b.midC, 3, b.stride, `${name}_conv2`), `${name}_bn2`), `${name}_relu2`);
    y = torchBatchNorm(conv(y, b.outC, 1, 1, `${name}_conv3`), `${name}_bn3`);
    const shortcut = b.project ? torchBatchNorm(conv(x, b.outC, 1, b.stride, `${name}_downsample`), `${name}_downsample_bn`) : x;
    x = relu(tf.layers.add({ name: `${name}_add` }).apply([y, shortcut]) as tf.SymbolicTensor, `${name}_relu3`);
  }
  x = tf.layers.globalAveragePooling2d({ name: 'avgpool' }).apply(x) as tf.SymbolicTensor;
  const logits = tf.layers.dense({ units: p.numClasses, kernelInitializer: init.glorot(), name: 'fc' }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: logits, name: 'resnet50' });
}
