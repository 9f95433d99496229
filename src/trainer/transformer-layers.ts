import * as tf from '@tensorflow/tfjs';
import { FusedLayerNormalization } from './fused-layers.js';

type Kwargs = Record<string, unknown>;

/** Adds a learned position embedding `[sequenceLength, dModel]` to a `[batch, sequence, dModel]` input. */
export class PositionEmbedding extends tf.layers.Layer {
  /** Name under which tfjs serialises this layer. */
  static readonly className = 'GreennasPositionEmbedding';
  private positions!: tf.LayerVariable;

  constructor(args: { name?: string; trainable?: boolean } = {}) {
    super(args);
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = inputShape as tf.Shape;
    const seq = shape[1];
    const d = shape[2];
    if (seq == null || d == null) throw new Error('PositionEmbedding needs a fixed sequence length and width');
    this.positions = this.addWeight('positions', [seq, d], 'float32',
      tf.initializers.randomNormal({ mean: 0, stddev: 0.02 }));
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0]! : inputs;
      return tf.add(x, this.positions.read());
    });
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override getClassName(): string {
    return PositionEmbedding.className;
  }
}

/**
 * Multi-head self-attention over `[batch, sequence, dModel]`: one fused q/k/v projection
 * (`[dModel, 3·dModel]` plus bias, like PyTorch's `in_proj`), scaled dot-product attention per
 * head, and an output projection. Parameters: 4·dModel² + 4·dModel.
 */
export class MultiHeadSelfAttention extends tf.layers.Layer {
  /** Name under which tfjs serialises this layer. */
  static readonly className = 'GreennasMultiHeadSelfAttention';
  /** Number of attention heads; dModel must divide evenly. */
  readonly numHeads: number;
  private inKernel!: tf.LayerVariable;
  private inBias!: tf.LayerVariable;
  private outKernel!: tf.LayerVariable;
  private outBias!: tf.LayerVariable;

  constructor(args: { numHeads: number; name?: string; trainable?: boolean }) {
    super(args);
    this.numHeads = args.numHeads;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const d = (inputShape as tf.Shape)[2];
    if (d == null) throw new Error('MultiHeadSelfAttention needs a fixed model width');
    if (d % this.numHeads !== 0) throw new Error(`model width ${d} is not divisible by ${this.numHeads} heads`);
    const glorot = tf.initializers.glorotUniform({});
    this.inKernel = this.addWeight('in_kernel', [d, 3 * d], 'float32', glorot);
    this.inBias = this.addWeight('in_bias', [3 * d], 'float32', tf.initializers.zeros());
    this.outKernel = this.addWeight('out_kernel', [d, d], 'float32', glorot);
    this.outBias = this.addWeight('out_bias', [d], 'float32', tf.initializers.zeros());
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0]! : inputs) as tf.Tensor3D;
      const [b, t, d] = x.shape;
      const h = this.numHeads;
      const dh = d / h;
      // Projections as one 2-D product: the fast matmul path needs rank-2, non-batched operands.
      const qkv = tf.add(tf.matMul(tf.reshape(x, [b * t, d]), this.inKernel.read()), this.inBias.read());
      // [b·t, 3d] -> [3, b, h, t, dh] so q, k and v come out head-major in one transpose.
      const heads = tf.transpose(tf.reshape(qkv, [b, t, 3, h, dh]), [2, 0, 3, 1, 4]);
      const [q, k, v] = tf.unstack(heads, 0) as tf.Tensor4D[];
      const scores = tf.mul(tf.matMul(q!, k!, false, true), 1 / Math.sqrt(dh));
      const attn = tf.softmax(scores);
      const ctx = tf.matMul(attn, v!);
      const merged = tf.reshape(tf.transpose(ctx, [0, 2, 1, 3]), [b * t, d]);
      const out = tf.add(tf.matMul(merged, this.outKernel.read()), this.outBias.read());
      return tf.reshape(out, [b, t, d]);
    });
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), numHeads: this.numHeads };
  }

  override getClassName(): string {
    return MultiHeadSelfAttention.className;
  }
}

tf.serialization.registerClass(PositionEmbedding);
tf.serialization.registerClass(MultiHeadSelfAttention);

/** Options of one post-LN transformer encoder layer. */
export interface EncoderLayerOptions {
  /** Attention heads. */
  numHeads: number;
  /** Width of the feed-forward hidden layer. */
  ffnUnits: number;
  /** Prefix for the layer names, unique within the model. */
  name: string;
}

/**
 * One post-LN encoder layer (as PyTorch's `TransformerEncoderLayer` with `norm_first=false`,
 * no dropout): x = LN(x + MHSA(x)); x = LN(x + FFN(x)) with a ReLU feed-forward.
 */
export function encoderLayer(x: tf.SymbolicTensor, options: EncoderLayerOptions): tf.SymbolicTensor {
  const d = x.shape[2];
  if (d == null) throw new Error('encoderLayer needs a fixed model width');
  const attn = new MultiHeadSelfAttention({ numHeads: options.numHeads, name: `${options.name}_attn` })
    .apply(x) as tf.SymbolicTensor;
  let y = tf.layers.add({ name: `${options.name}_add1` }).apply([x, attn]) as tf.SymbolicTensor;
  y = new FusedLayerNormalization({ epsilon: 1e-5, name: `${options.name}_ln1` }).apply(y) as tf.SymbolicTensor;
  let f = tf.layers.dense({ units: options.ffnUnits, activation: 'relu', name: `${options.name}_ffn1` })
    .apply(y) as tf.SymbolicTensor;
  f = tf.layers.dense({ units: d, name: `${options.name}_ffn2` }).apply(f) as tf.SymbolicTensor;
  let z = tf.layers.add({ name: `${options.name}_add2` }).apply([y, f]) as tf.SymbolicTensor;
  z = new FusedLayerNormalization({ epsilon: 1e-5, name: `${options.name}_ln2` }).apply(z) as tf.SymbolicTensor;
  return z;
}
