import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../../src/core/index.js';
import {
  addCosts,
  costMetricSpecs,
  denseCost,
  embeddingCost,
  layerNormCost,
  selfAttentionCost,
  type Cost,
  type CostTally,
  type SearchSpace,
  type Task,
} from '../../src/space/index.js';
import { ClassToken, FirstToken, MaskedGlobalPooling, PaddingMask, PositionEmbedding, encoderLayer } from '../../src/space/layers/index.js';
import {
  TRANSFORMER_DECISIONS,
  crossoverTransformer,
  decodeTransformer,
  encodeTransformer,
  keyTransformer,
  labelTransformer,
  mutateTransformer,
  sampleTransformer,
  textShape,
  validateTransformer,
  type TransformerArch,
} from './arch.js';

export * from './arch.js';

/** Version of the space's definition; bump when choices or layer layout change. */
export const TRANSFORMER_SPACE_VERSION = '1.0.0';

/** Options of buildTransformer. */
export interface TransformerBuildOptions {
  /** Seed for the weight initialisers, so a build is reproducible; unseeded when absent. */
  seed?: number;
}

/** Exact trainable parameters and multiply-adds per sample of an architecture on a text task. */
export function transformerCostDetail(arch: TransformerArch, task: Task): CostTally {
  const { seqLen, vocabSize } = textShape(task);
  const d = arch.dModel;
  // A class token is one more position: it gets a position embedding and goes through every layer.
  const positions = seqLen + (arch.pooling === 'cls' ? 1 : 0);
  const parts: CostTally[] = [embeddingCost(vocabSize, d)];
  if (arch.pooling === 'cls') parts.push({ params: d, macs: 0, stateParams: 0 });
  parts.push({ params: positions * d, macs: 0, stateParams: 0 });
  for (const layer of arch.layers) {
    const ffn = layer.ffnMult * d;
    parts.push(
      selfAttentionCost(positions, d),
      layerNormCost(d),
      denseCost(d, ffn, true, positions),
      denseCost(ffn, d, true, positions),
      layerNormCost(d),
    );
  }
  parts.push(denseCost(d, task.numClasses));
  return addCosts(...parts);
}

/**
 * Builds the classifier as a tfjs LayersModel over int32 token ids `[batch, sequenceLength]` (id 0 =
 * padding) that outputs logits: embedding, [class token], learned positions, post-LN encoder layers
 * with padding masked out of attention, pooling (mean / max over unpadded positions, or the class
 * token), dense.
 */
export function buildTransformer(arch: TransformerArch, task: Task, options: TransformerBuildOptions = {}): tf.LayersModel {
  const a = validateTransformer(arch);
  const { seqLen, vocabSize } = textShape(task);
  let seed = options.seed;
  // Each component takes a block of seeds so adding one never shifts another's.
  const next = (): number | undefined => (seed === undefined ? undefined : (seed += 10) - 10);
  const s = (): { seed?: number } => {
    const v = next();
    return v === undefined ? {} : { seed: v };
  };
  const input = tf.input({ shape: [seqLen], dtype: 'int32', name: 'tokens' });
  let x = tf.layers
    .embedding({ inputDim: vocabSize, outputDim: a.dModel, embeddingsInitializer: tf.initializers.randomNormal({ mean: 0, stddev: 0.02, ...s() }), name: 'embed' })
    .apply(input) as tf.SymbolicTensor;
  const cls = a.pooling === 'cls';
  // Padding (id 0) is masked out of attention and pooling, so results do not depend on how much of a short text is padding.
  const mask = new PaddingMask({ prependClass: cls, name: 'padding_mask' }).apply(input) as tf.SymbolicTensor;
  if (cls) x = new ClassToken({ name: 'cls_token', ...s() }).apply(x) as tf.SymbolicTensor;
  x = new PositionEmbedding({ name: 'positions', ...s() }).apply(x) as tf.SymbolicTensor;
  a.layers.forEach((layer, i) => {
    x = encoderLayer(x, { numHeads: layer.heads, ffnUnits: layer.ffnMult * a.dModel, name: `enc${i + 1}`, mask, ...s() });
  });
  x = (cls ? new FirstToken({ name: 'pool' }).apply(x) : new MaskedGlobalPooling({ mode: a.pooling as 'mean' | 'max', name: 'pool' }).apply([x, mask])) as tf.SymbolicTensor;
  const logits = tf.layers.dense({ units: task.numClasses, kernelInitializer: tf.initializers.glorotUniform(s()), name: 'logits' }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: logits, name: 'transformer' });
}

/**
 * Post-LN transformer encoder text classifier over token ids: 1–4 layers each with 1/2/4 heads and a
 * feed-forward width of 1/2/4 × d_model, d_model 32/64/128, mean / class-token / max pooling, learned
 * positions.
 */
export const transformerSpace: SearchSpace<TransformerArch> & {
  build(arch: TransformerArch, task: Task, options?: TransformerBuildOptions): tf.LayersModel;
  cost(arch: TransformerArch, task: Task): Cost;
} = {
  name: 'transformer',
  version: TRANSFORMER_SPACE_VERSION,
  description: 'post-LN transformer text classifier: 1–4 layers with per-layer heads and FFN width, d_model, pooling',
  datasets: ['spam-assassin'],
  decisions: () => TRANSFORMER_DECISIONS,
  encode: encodeTransformer,
  decode: decodeTransformer,
  validate: validateTransformer,
  sample: (rng: Rng) => sampleTransformer(rng),
  mutate: mutateTransformer,
  crossover: crossoverTransformer,
  key: keyTransformer,
  metrics: () => costMetricSpecs(),
  build: buildTransformer,
  cost: (arch, task) => {
    const { params, macs } = transformerCostDetail(arch, task);
    return { params, macs };
  },
  label: labelTransformer,
};

export default transformerSpace;
