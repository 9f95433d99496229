import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../../src/core/index.js';
import {
  addCosts,
  batchNormCost,
  conv2dCost,
  costMetricSpecs,
  denseCost,
  type Cost,
  type CostTally,
  type SearchSpace,
  type Task,
} from '../../src/space/index.js';
import { FusedBatchNormalization } from '../../src/space/layers/index.js';
import {
  MOBILENET_DECISIONS,
  MOBILENET_STEM_STRIDE,
  crossoverMobilenet,
  decodeMobilenet,
  encodeMobilenet,
  keyMobilenet,
  labelMobilenet,
  mutateMobilenet,
  planMobilenet,
  sampleMobilenet,
  validateMobilenet,
  type BlockPlan,
  type MobilenetArch,
} from './arch.js';

export * from './arch.js';

/** Version of the space's definition; bump when stages, choices or layer layout change. */
export const MOBILENET_SPACE_VERSION = '2.0.0';

/** Options of buildMobilenet. */
export interface MobilenetBuildOptions {
  /** Seed for the weight initialisers, so a build is reproducible; unseeded when absent. */
  seed?: number;
}

/** Exact counts of one inverted-residual layer; `stateParams` are the BatchNormalization moving statistics. */
export function blockCost(b: BlockPlan): CostTally {
  const parts: CostTally[] = [];
  const outH = Math.ceil(b.inH / b.stride);
  const outW = Math.ceil(b.inW / b.stride);
  if (b.expandC !== b.inC) {
    parts.push(conv2dCost({ inH: b.inH, inW: b.inW, inC: b.inC, outC: b.expandC, kernel: 1, stride: 1, useBias: false }));
    parts.push(batchNormCost(b.expandC));
  }
  parts.push(conv2dCost({ inH: b.inH, inW: b.inW, inC: b.expandC, outC: b.expandC, kernel: b.kernel, stride: b.stride, useBias: false, depthwise: true }));
  parts.push(batchNormCost(b.expandC));
  if (b.seC > 0) {
    parts.push(denseCost(b.expandC, b.seC), denseCost(b.seC, b.expandC));
  }
  parts.push(conv2dCost({ inH: outH, inW: outW, inC: b.expandC, outC: b.outC, kernel: 1, stride: 1, useBias: false }));
  parts.push(batchNormCost(b.outC));
  return addCosts(...parts);
}

/** Exact trainable parameters, multiply-adds per sample and BatchNormalization state of an architecture on a task. */
export function mobilenetCostDetail(arch: MobilenetArch, task: Task): CostTally {
  const plan = planMobilenet(arch, task);
  return addCosts(
    conv2dCost({ inH: plan.inH, inW: plan.inW, inC: plan.inC, outC: plan.stemC, kernel: 3, stride: MOBILENET_STEM_STRIDE, useBias: false }),
    batchNormCost(plan.stemC),
    ...plan.blocks.map(blockCost),
    denseCost(plan.headC, plan.numClasses),
  );
}

/** Batch normalisation, with ReLU6 fused into the same training kernel when `relu6`. */
function bn(x: tf.SymbolicTensor, name: string, relu6 = false): tf.SymbolicTensor {
  return new FusedBatchNormalization({ activation: relu6 ? 'relu6' : 'linear', name: relu6 ? `${name}_bn_relu6` : `${name}_bn` }).apply(x) as tf.SymbolicTensor;
}

/**
 * Builds the network as a tfjs LayersModel that outputs logits (no softmax): stem conv 3×3 + BN +
 * ReLU6, the inverted-residual layers (1×1 expand + BN + ReLU6 unless the ratio is 1, depthwise k×k +
 * BN + ReLU6, optional squeeze-and-excitation, 1×1 project + BN, identity residual when chosen and
 * shapes match), global average pooling and a dense layer, the same layer kinds as the trainer's
 * reference model A so its fast kernels apply.
 */
export function buildMobilenet(arch: MobilenetArch, task: Task, options: MobilenetBuildOptions = {}): tf.LayersModel {
  const plan = planMobilenet(validateMobilenet(arch), task);
  let seed = options.seed;
  const he = () => tf.initializers.heNormal(seed === undefined ? {} : { seed: seed++ });
  const glorot = () => tf.initializers.glorotUniform(seed === undefined ? {} : { seed: seed++ });
  const input = tf.input({ shape: task.inputShape, name: 'image' });
  let x = input;
  if (task.inputShape.length === 2) {
    x = tf.layers.reshape({ targetShape: [plan.inH, plan.inW, 1], name: 'to_hwc' }).apply(x) as tf.SymbolicTensor;
  }
  x = tf.layers.conv2d({ filters: plan.stemC, kernelSize: 3, strides: MOBILENET_STEM_STRIDE, padding: 'same', useBias: false, kernelInitializer: he(), name: 'stem_conv' })
    .apply(x) as tf.SymbolicTensor;
  x = bn(x, 'stem', true);
  for (const b of plan.blocks) {
    const name = `s${b.stage + 1}_l${b.layer + 1}`;
    let y = x;
    if (b.expandC !== b.inC) {
      y = tf.layers.conv2d({ filters: b.expandC, kernelSize: 1, useBias: false, kernelInitializer: he(), name: `${name}_expand` })
        .apply(y) as tf.SymbolicTensor;
      y = bn(y, `${name}_expand`, true);
    }
    y = tf.layers.depthwiseConv2d({ kernelSize: b.kernel, strides: b.stride, padding: 'same', useBias: false, depthwiseInitializer: he(), name: `${name}_dw` })
      .apply(y) as tf.SymbolicTensor;
    y = bn(y, `${name}_dw`, true);
    if (b.seC > 0) {
      let g = tf.layers.globalAveragePooling2d({ name: `${name}_se_pool` }).apply(y) as tf.SymbolicTensor;
      g = tf.layers.dense({ units: b.seC, activation: 'relu', kernelInitializer: he(), name: `${name}_se_reduce` }).apply(g) as tf.SymbolicTensor;
      g = tf.layers.dense({ units: b.expandC, activation: 'sigmoid', kernelInitializer: glorot(), name: `${name}_se_expand` }).apply(g) as tf.SymbolicTensor;
      g = tf.layers.reshape({ targetShape: [1, 1, b.expandC], name: `${name}_se_shape` }).apply(g) as tf.SymbolicTensor;
      y = tf.layers.multiply({ name: `${name}_se_gate` }).apply([y, g]) as tf.SymbolicTensor;
    }
    y = tf.layers.conv2d({ filters: b.outC, kernelSize: 1, useBias: false, kernelInitializer: he(), name: `${name}_project` })
      .apply(y) as tf.SymbolicTensor;
    y = bn(y, `${name}_project`);
    x = b.residual ? (tf.layers.add({ name: `${name}_add` }).apply([x, y]) as tf.SymbolicTensor) : y;
  }
  x = tf.layers.globalAveragePooling2d({ name: 'pool' }).apply(x) as tf.SymbolicTensor;
  const logits = tf.layers.dense({ units: plan.numClasses, kernelInitializer: glorot(), name: 'logits' }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: logits, name: 'mobilenet' });
}

/**
 * MnasNet-style factorized hierarchical space for small images: 5 stages (base channels 16, 24, 32,
 * 48, 64; strides 1, 2, 2, 1, 2) after a 3×3 stem, each choosing layers 1–3, expansion 1/3/6, kernel
 * 3/5, squeeze-and-excitation and residual skip; a global width multiplier 0.5/0.75/1.0.
 */
export const mobilenetSpace: SearchSpace<MobilenetArch> & {
  build(arch: MobilenetArch, task: Task, options?: MobilenetBuildOptions): tf.LayersModel;
  cost(arch: MobilenetArch, task: Task): Cost;
} = {
  name: 'mobilenet',
  version: MOBILENET_SPACE_VERSION,
  description: 'MnasNet-style inverted-residual space for small images: per-stage layers, expansion, kernel, SE, skip; width multiplier',
  datasets: ['fashion-mnist'],
  decisions: () => MOBILENET_DECISIONS,
  encode: encodeMobilenet,
  decode: decodeMobilenet,
  validate: validateMobilenet,
  sample: (rng: Rng) => sampleMobilenet(rng),
  mutate: mutateMobilenet,
  crossover: crossoverMobilenet,
  key: keyMobilenet,
  metrics: () => costMetricSpecs(),
  build: buildMobilenet,
  cost: (arch, task) => {
    const { params, macs } = mobilenetCostDetail(arch, task);
    return { params, macs };
  },
  label: labelMobilenet,
};

export default mobilenetSpace;
