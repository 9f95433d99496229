import * as tf from '@tensorflow/tfjs';
import { encoderLayer, FusedBatchNormalization, PositionEmbedding } from '../space/layers/index.js';

/** Trainable parameters of reference model A (MobileNetV2-style proxy), as the benchmark defines it. */
export const MODEL_A_PARAMS = 43_770;
/** Trainable parameters of reference model B (transformer text classifier), as the benchmark defines it. */
export const MODEL_B_PARAMS = 391_170;

/** Shape of reference model B's input and vocabulary. */
export const MODEL_B_SHAPE = { vocabSize: 5000, sequenceLength: 64, dModel: 64, numHeads: 4, ffnUnits: 128, layers: 2, classes: 2 } as const;

/** The inverted-residual blocks of model A: output channels and stride. */
const MODEL_A_BLOCKS: ReadonlyArray<{ out: number; stride: number }> = [
  { out: 16, stride: 1 }, { out: 24, stride: 2 }, { out: 24, stride: 1 },
  { out: 32, stride: 2 }, { out: 32, stride: 1 }, { out: 64, stride: 1 },
];

function bnRelu6(x: tf.SymbolicTensor, name: string, relu6: boolean): tf.SymbolicTensor {
  // BN and ReLU6 as one layer: one kernel each way instead of two. Momentum 0.9 is PyTorch's
  // default (its 0.1): short proxy trainings need moving statistics that converge in tens of steps.
  return new FusedBatchNormalization({ name: `${name}_bn`, momentum: 0.9, activation: relu6 ? 'relu6' : 'linear' })
    .apply(x) as tf.SymbolicTensor;
}

/**
 * Reference model A: 28×28×1 input, stem conv 3×3/16 + BN + ReLU6, six inverted-residual blocks
 * (1×1 expand ×4, depthwise 3×3, 1×1 project, BN after each, ReLU6 after the first two, residual
 * when shapes match), global average pool, dense 10 (logits). 43,770 trainable parameters.
 */
export function buildModelA(options: { seed?: number } = {}): tf.LayersModel {
  let seed = options.seed ?? 1;
  const init = () => tf.initializers.heNormal({ seed: seed++ });
  const input = tf.input({ shape: [28, 28, 1], name: 'image' });
  let x = tf.layers.conv2d({ filters: 16, kernelSize: 3, padding: 'same', useBias: false,
    kernelInitializer: init(), name: 'stem_conv' }).apply(input) as tf.SymbolicTensor;
  x = bnRelu6(x, 'stem', true);
  let channels = 16;
  MODEL_A_BLOCKS.forEach(({ out, stride }, i) => {
    const name = `block${i + 1}`;
    const expanded = channels * 4;
    let y = tf.layers.conv2d({ filters: expanded, kernelSize: 1, useBias: false,
      kernelInitializer: init(), name: `${name}_expand` }).apply(x) as tf.SymbolicTensor;
    y = bnRelu6(y, `${name}_expand`, true);
    y = tf.layers.depthwiseConv2d({ kernelSize: 3, strides: stride, padding: 'same', useBias: false,
      depthwiseInitializer: init(), name: `${name}_dw` }).apply(y) as tf.SymbolicTensor;
    y = bnRelu6(y, `${name}_dw`, true);
    y = tf.layers.conv2d({ filters: out, kernelSize: 1, useBias: false,
      kernelInitializer: init(), name: `${name}_project` }).apply(y) as tf.SymbolicTensor;
    y = bnRelu6(y, `${name}_project`, false);
    x = stride === 1 && out === channels
      ? tf.layers.add({ name: `${name}_add` }).apply([x, y]) as tf.SymbolicTensor
      : y;
    channels = out;
  });
  x = tf.layers.globalAveragePooling2d({ name: 'pool' }).apply(x) as tf.SymbolicTensor;
  const logits = tf.layers.dense({ units: 10, kernelInitializer: tf.initializers.glorotUniform({ seed: seed++ }),
    name: 'logits' }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: logits, name: 'reference_a' });
}

/**
 * Reference model B: token ids `[batch, 64]` (vocabulary 5,000) → embedding 64 + learned
 * positions → two post-LN encoder layers (4 heads, FFN 128 ReLU) → mean over positions → dense 2
 * (logits). 391,170 trainable parameters.
 */
export function buildModelB(): tf.LayersModel {
  const s = MODEL_B_SHAPE;
  const input = tf.input({ shape: [s.sequenceLength], dtype: 'int32', name: 'tokens' });
  let x = tf.layers.embedding({ inputDim: s.vocabSize, outputDim: s.dModel,
    embeddingsInitializer: tf.initializers.randomNormal({ mean: 0, stddev: 0.02 }), name: 'embed' })
    .apply(input) as tf.SymbolicTensor;
  x = new PositionEmbedding({ name: 'positions' }).apply(x) as tf.SymbolicTensor;
  for (let i = 0; i < s.layers; i++) {
    x = encoderLayer(x, { numHeads: s.numHeads, ffnUnits: s.ffnUnits, name: `enc${i + 1}` });
  }
  x = tf.layers.globalAveragePooling1d({ name: 'pool' }).apply(x) as tf.SymbolicTensor;
  const logits = tf.layers.dense({ units: s.classes, name: 'logits' }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: logits, name: 'reference_b' });
}

/** Number of trainable scalars in a model. */
export function countTrainableParams(model: tf.LayersModel): number {
  return model.trainableWeights.reduce((n, w) => n + (w.shape as number[]).reduce((a, b) => a * b, 1), 0);
}
