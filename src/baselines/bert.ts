import * as tf from '@tensorflow/tfjs';
import { addCosts, denseCost, embeddingCost, layerNormCost, selfAttentionCost, zeroCost, type CostTally, type Task } from '../space/index.js';
import { FirstToken, FusedLayerNormalization, MultiHeadSelfAttention, PaddingMask } from '../space/layers/index.js';
import type { BaselineBuildOptions } from './resnet50.js';
import { scaledCount, textSize, type ScaledVariant } from './variant.js';

/*
 * BERT-style encoders as Hugging Face defines the base models (no task head): word + learned
 * position (+ token type) embeddings, LayerNorm (ε 1e-12), post-LN encoder layers (biased Q, K, V and
 * output projections, GELU feed-forward), and for BERT a tanh pooler over the first token. A greennas
 * text task has no [CLS] id, so the first position stands in for it as BERT's pooler reads it;
 * single-segment inputs add token type 0 everywhere.
 */

/** The shape of a BERT-style encoder. */
export interface BertConfig {
  /** Encoder layers. */
  layers: number;
  /** Hidden size (d_model). */
  hidden: number;
  /** Attention heads (hidden / heads is the head size). */
  heads: number;
  /** Feed-forward inner size. */
  ffn: number;
  /** Rows of the learned position table. */
  maxPositions: number;
  /** Rows of the token type table; 0 for none (DistilBERT). */
  tokenTypes: number;
  /** Whether a dense + tanh pooler reads the first token (BERT; DistilBERT has none). */
  pooler: boolean;
}

/** bert-base-uncased (Hugging Face config): 12 layers, 768 hidden, 12 heads, 3072 FFN, 512 positions, 2 token types, pooler. */
export const BERT_BASE_CONFIG: BertConfig = { layers: 12, hidden: 768, heads: 12, ffn: 3072, maxPositions: 512, tokenTypes: 2, pooler: true };
/** distilbert-base-uncased: 6 layers, no token types, no pooler; otherwise as bert-base. */
export const DISTILBERT_CONFIG: BertConfig = { layers: 6, hidden: 768, heads: 12, ffn: 3072, maxPositions: 512, tokenTypes: 0, pooler: false };
/** Vocabulary of the uncased WordPiece tokenizer both reference models use. */
export const BERT_UNCASED_VOCAB = 30522;
/** Head size both reference models use; scaled variants keep it and drop heads. */
export const BERT_HEAD_SIZE = 64;

/**
 * The encoder a variant builds for a sequence length: heads scale with `width` (head size fixed at
 * 64, FFN 4 × hidden), layers with `depth`. The reference variant keeps its 512-row position table;
 * a scaled one has exactly one row per input position (rows past the input never train).
 */
export function scaledBertConfig(reference: BertConfig, variant: ScaledVariant, seqLen: number): BertConfig {
  const isReference = variant.width === 1 && variant.depth === 1;
  const heads = isReference ? reference.heads : Math.max(1, Math.round(reference.heads * variant.width));
  const hidden = isReference ? reference.hidden : heads * BERT_HEAD_SIZE;
  return {
    ...reference,
    layers: scaledCount(reference.layers, variant.depth),
    hidden,
    heads,
    ffn: isReference ? reference.ffn : 4 * hidden,
    maxPositions: isReference ? Math.max(reference.maxPositions, seqLen) : seqLen,
  };
}

/** Options of bertCost. */
export interface BertCostOptions {
  /** Count a classifier for the task's classes (the built model has one; the reference counts do not). */
  head: boolean;
}

/** Exact trainable parameters and multiply-adds per sample of an encoder over a text task. */
export function bertCost(config: BertConfig, task: Task, options: BertCostOptions = { head: true }): CostTally {
  const { seqLen, vocabSize } = textSize(task, 'bert');
  const d = config.hidden;
  const parts: CostTally[] = [
    embeddingCost(vocabSize, d),
    embeddingCost(config.maxPositions, d),
    embeddingCost(config.tokenTypes, d),
    layerNormCost(d),
  ];
  for (let i = 0; i < config.layers; i++) {
    parts.push(selfAttentionCost(seqLen, d), layerNormCost(d), denseCost(d, config.ffn, true, seqLen), denseCost(config.ffn, d, true, seqLen), layerNormCost(d));
  }
  if (config.pooler) parts.push(denseCost(d, d));
  parts.push(options.head && task.numClasses > 0 ? denseCost(d, task.numClasses) : zeroCost());
  return addCosts(...parts);
}

/** Options of EmbeddingSum. */
export interface EmbeddingSumArgs {
  /** Rows of the position table (at least the sequence length). */
  maxPositions: number;
  /** Rows of the token type table; 0 for none. */
  tokenTypes: number;
  /** Layer name. */
  name?: string;
  /** Initialiser seed; unseeded when absent. */
  seed?: number;
}

/**
 * Adds BERT's learned position embedding (the first `sequence` rows of a `maxPositions` table) and,
 * when the model has token types, the type-0 row, to word embeddings `[batch, sequence, width]`.
 */
export class EmbeddingSum extends tf.layers.Layer {
  /** Name under which tfjs serialises this layer. */
  static readonly className = 'GreennasBaselineEmbeddingSum';
  /** Rows of the position table. */
  readonly maxPositions: number;
  /** Rows of the token type table. */
  readonly tokenTypes: number;
  /** Initialiser seed, kept in the config. */
  readonly seed?: number;
  private positions!: tf.LayerVariable;
  private types?: tf.LayerVariable;

  constructor(args: EmbeddingSumArgs) {
    super({ name: args.name });
    this.maxPositions = args.maxPositions;
    this.tokenTypes = args.tokenTypes;
    this.seed = args.seed;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const [, seq, width] = shape;
    if (seq == null || width == null) throw new Error('EmbeddingSum needs a fixed sequence length and width');
    if (seq > this.maxPositions) throw new Error(`EmbeddingSum: sequence length ${seq} exceeds the ${this.maxPositions}-row position table`);
    const init = (offset: number) => tf.initializers.randomNormal({ mean: 0, stddev: 0.02, ...(this.seed === undefined ? {} : { seed: this.seed + offset }) });
    this.positions = this.addWeight('positions', [this.maxPositions, width], 'float32', init(0));
    if (this.tokenTypes > 0) this.types = this.addWeight('token_types', [this.tokenTypes, width], 'float32', init(1));
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Record<string, unknown>): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0]! : inputs) as tf.Tensor3D;
      const [, seq, width] = x.shape;
      let y = tf.add(x, tf.slice(this.positions.read(), [0, 0], [seq, width]));
      if (this.types) y = tf.add(y, tf.slice(this.types.read(), [0, 0], [1, width]));
      return y;
    });
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
  }

  /** Additions only: no multiply-adds. */
  macsPerSample(_inputShape: tf.Shape): number {
    return 0;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), maxPositions: this.maxPositions, tokenTypes: this.tokenTypes, ...(this.seed === undefined ? {} : { seed: this.seed }) };
  }

  override getClassName(): string {
    return EmbeddingSum.className;
  }
}

tf.serialization.registerClass(EmbeddingSum);

/** Builds an encoder classifier over int32 token ids `[batch, sequence]` (id 0 = padding, masked out of attention) that outputs logits. */
export function buildBert(config: BertConfig, task: Task, name: string, options: BaselineBuildOptions = {}): tf.LayersModel {
  const { seqLen, vocabSize } = textSize(task, name);
  let seed = options.seed;
  const s = (): { seed?: number } => (seed === undefined ? {} : { seed: (seed += 10) - 10 });
  const normal = () => tf.initializers.truncatedNormal({ mean: 0, stddev: 0.02, ...s() });
  const ln = (x: tf.SymbolicTensor, n: string) => new FusedLayerNormalization({ epsilon: 1e-12, name: n }).apply(x) as tf.SymbolicTensor;
  const input = tf.input({ shape: [seqLen], dtype: 'int32', name: 'tokens' });
  const mask = new PaddingMask({ name: 'padding_mask' }).apply(input) as tf.SymbolicTensor;
  let x = tf.layers.embedding({ inputDim: vocabSize, outputDim: config.hidden, embeddingsInitializer: normal(), name: 'word_embeddings' }).apply(input) as tf.SymbolicTensor;
  x = new EmbeddingSum({ maxPositions: config.maxPositions, tokenTypes: config.tokenTypes, name: 'embeddings', ...s() }).apply(x) as tf.SymbolicTensor;
  x = ln(x, 'embeddings_ln');
  for (let i = 0; i < config.layers; i++) {
    const n = `layer${i}`;
    const attn = new MultiHeadSelfAttention({ numHeads: config.heads, name: `${n}_attention`, ...s() }).apply([x, mask]) as tf.SymbolicTensor;
    x = ln(tf.layers.add({ name: `${n}_add1` }).apply([x, attn]) as tf.SymbolicTensor, `${n}_attention_ln`);
    let f = tf.layers.dense({ units: config.ffn, activation: 'gelu' as never, kernelInitializer: normal(), name: `${n}_intermediate` }).apply(x) as tf.SymbolicTensor;
    f = tf.layers.dense({ units: config.hidden, kernelInitializer: normal(), name: `${n}_output` }).apply(f) as tf.SymbolicTensor;
    x = ln(tf.layers.add({ name: `${n}_add2` }).apply([x, f]) as tf.SymbolicTensor, `${n}_output_ln`);
  }
  x = new FirstToken({ name: 'first_token' }).apply(x) as tf.SymbolicTensor;
  if (config.pooler) x = tf.layers.dense({ units: config.hidden, activation: 'tanh', kernelInitializer: normal(), name: 'pooler' }).apply(x) as tf.SymbolicTensor;
  const logits = tf.layers.dense({ units: task.numClasses, kernelInitializer: normal(), name: 'classifier' }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: logits, name });
}
