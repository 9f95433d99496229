import * as tf from '@tensorflow/tfjs';
import { FusedLayerNormalization } from './fused-layers.js';

/*
 * Transformer building blocks tfjs-layers lacks. Each is registered with tf.serialization so a model
 * that uses them can be saved and loaded (registration happens on import, as tfjs requires, under
 * class names prefixed `GreennasSpace` so they cannot collide with other greennas layers).
 * Every layer reports its own multiply-adds (`macsPerSample`) for layersModelCost.
 */

type Kwargs = Record<string, unknown>;

/** Options shared by the layers below. */
export interface SpaceLayerArgs {
  /** Layer name, unique within a model. */
  name?: string;
  /** Whether the layer's weights train. */
  trainable?: boolean;
  /** Seed for the weight initialiser; unseeded when absent. */
  seed?: number;
}

function firstInput(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
  return Array.isArray(inputs) ? inputs[0]! : inputs;
}

function firstShape(shape: tf.Shape | tf.Shape[]): tf.Shape {
  return (Array.isArray(shape[0]) ? shape[0] : shape) as tf.Shape;
}

function seeded(seed: number | undefined, offset: number): { seed?: number } {
  return seed === undefined ? {} : { seed: seed + offset };
}

/** Adds a learned position embedding `[sequence, width]` to a `[batch, sequence, width]` input. */
export class PositionEmbedding extends tf.layers.Layer {
  /** Name under which tfjs serialises this layer. */
  static readonly className = 'GreennasSpacePositionEmbedding';
  /** Initialiser seed, kept in the config. */
  readonly seed?: number;
  private positions!: tf.LayerVariable;

  constructor(args: SpaceLayerArgs = {}) {
    super(args);
    this.seed = args.seed;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const [, seq, width] = firstShape(inputShape);
    if (seq == null || width == null) throw new Error('PositionEmbedding needs a fixed sequence length and width');
    this.positions = this.addWeight('positions', [seq, width], 'float32', tf.initializers.randomNormal({ mean: 0, stddev: 0.02, ...seeded(this.seed, 0) }));
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => tf.add(firstInput(inputs), this.positions.read()));
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return firstShape(inputShape);
  }

  /** An addition: no multiply-adds. */
  macsPerSample(_inputShape: tf.Shape): number {
    return 0;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), ...(this.seed === undefined ? {} : { seed: this.seed }) };
  }

  override getClassName(): string {
    return PositionEmbedding.className;
  }
}

/** Prepends one learned `[width]` vector (the classification token) to a `[batch, sequence, width]` input. */
export class ClassToken extends tf.layers.Layer {
  /** Name under which tfjs serialises this layer. */
  static readonly className = 'GreennasSpaceClassToken';
  /** Initialiser seed, kept in the config. */
  readonly seed?: number;
  private token!: tf.LayerVariable;

  constructor(args: SpaceLayerArgs = {}) {
    super(args);
    this.seed = args.seed;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const width = firstShape(inputShape)[2];
    if (width == null) throw new Error('ClassToken needs a fixed width');
    this.token = this.addWeight('token', [1, 1, width], 'float32', tf.initializers.randomNormal({ mean: 0, stddev: 0.02, ...seeded(this.seed, 0) }));
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = firstInput(inputs) as tf.Tensor3D;
      const [batch, , width] = x.shape;
      return tf.concat([tf.broadcastTo(this.token.read(), [batch, 1, width]), x], 1);
    });
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const [batch, seq, width] = firstShape(inputShape);
    return [batch ?? null, seq == null ? null : seq + 1, width ?? null];
  }

  /** A copy: no multiply-adds. */
  macsPerSample(_inputShape: tf.Shape): number {
    return 0;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), ...(this.seed === undefined ? {} : { seed: this.seed }) };
  }

  override getClassName(): string {
    return ClassToken.className;
  }
}

/** Takes the first position of a `[batch, sequence, width]` input (the classification token) as `[batch, width]`. */
export class FirstToken extends tf.layers.Layer {
  /** Name under which tfjs serialises this layer. */
  static readonly className = 'GreennasSpaceFirstToken';

  constructor(args: SpaceLayerArgs = {}) {
    super(args);
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = firstInput(inputs) as tf.Tensor3D;
      const [batch, , width] = x.shape;
      return tf.reshape(tf.slice(x, [0, 0, 0], [batch, 1, width]), [batch, width]);
    });
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const [batch, , width] = firstShape(inputShape);
    return [batch ?? null, width ?? null];
  }

  /** A slice: no multiply-adds. */
  macsPerSample(_inputShape: tf.Shape): number {
    return 0;
  }

  override getClassName(): string {
    return FirstToken.className;
  }
}

/** Options of MultiHeadSelfAttention. */
export interface MultiHeadSelfAttentionArgs extends SpaceLayerArgs {
  /** Number of heads; the width must divide evenly. */
  numHeads: number;
}

/** Added to the attention scores of padding keys: large enough to zero their weight, finite so an all-padding row stays defined. */
export const MASKED_SCORE = -1e9;

/**
 * Kernel: scaled dot-product self-attention of all heads, read from the fused projection `qkv`
 * `[batch, seq, 3·width]` (q, k, v blocks, each head-major) and a float key mask `[batch, seq]`
 * (1 = kept; all ones where the layer has none); attr numHeads; output the context
 * `[batch, seq, width]` (heads merged). The trainer registers it where it has a fast one; elsewhere
 * the layer runs the stock composition.
 */
export const SELF_ATTENTION = 'GreennasSelfAttention';
/** Kernel: gradient of SELF_ATTENTION with respect to qkv; inputs dy, qkv, mask; attr numHeads. */
export const SELF_ATTENTION_GRAD = 'GreennasSelfAttentionGrad';

/**
 * Multi-head self-attention over `[batch, sequence, width]`, given alone or with a padding mask
 * `[batch, sequence]` (1 = token, 0 = padding; padding keys get no weight): one fused q/k/v
 * projection (`[width, 3·width]` plus bias, PyTorch's `in_proj` layout), scaled dot-product attention
 * per head, and a biased output projection. Parameters: 4·width² + 4·width, whatever the heads.
 */
export class MultiHeadSelfAttention extends tf.layers.Layer {
  /** Name under which tfjs serialises this layer. */
  static readonly className = 'GreennasSpaceSelfAttention';
  /** Number of attention heads. */
  readonly numHeads: number;
  /** Initialiser seed, kept in the config. */
  readonly seed?: number;
  private inKernel!: tf.LayerVariable;
  private inBias!: tf.LayerVariable;
  private outKernel!: tf.LayerVariable;
  private outBias!: tf.LayerVariable;

  constructor(args: MultiHeadSelfAttentionArgs) {
    super(args);
    if (!Number.isInteger(args.numHeads) || args.numHeads < 1) throw new Error(`numHeads must be a positive integer, got ${args.numHeads}`);
    this.numHeads = args.numHeads;
    this.seed = args.seed;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const width = firstShape(inputShape)[2];
    if (width == null) throw new Error('MultiHeadSelfAttention needs a fixed width');
    if (width % this.numHeads !== 0) throw new Error(`width ${width} is not divisible by ${this.numHeads} heads`);
    this.inKernel = this.addWeight('in_kernel', [width, 3 * width], 'float32', tf.initializers.glorotUniform(seeded(this.seed, 0)));
    this.inBias = this.addWeight('in_bias', [3 * width], 'float32', tf.initializers.zeros());
    this.outKernel = this.addWeight('out_kernel', [width, width], 'float32', tf.initializers.glorotUniform(seeded(this.seed, 1)));
    this.outBias = this.addWeight('out_bias', [width], 'float32', tf.initializers.zeros());
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = firstInput(inputs) as tf.Tensor3D;
      const mask = Array.isArray(inputs) && inputs.length > 1 ? inputs[1]! : undefined;
      const [b, t, d] = x.shape;
      const h = this.numHeads;
      const dh = d / h;
      // Projections as rank-2 products: the fast matmul kernels take non-batched operands.
      const qkv = tf.add(tf.matMul(tf.reshape(x, [b * t, d]), this.inKernel.read()), this.inBias.read());
      let merged: tf.Tensor;
      if (tf.getKernel(SELF_ATTENTION, tf.getBackend())) {
        // One kernel each way reads the heads in place: no head split or merge transposes.
        const keys = !mask ? tf.ones([b, t]) : mask.dtype === 'float32' ? mask : tf.cast(mask, 'float32');
        const context = tf.engine().runKernel(SELF_ATTENTION, { qkv: tf.reshape(qkv, [b, t, 3 * d]), mask: keys }, { numHeads: h }) as tf.Tensor;
        merged = tf.reshape(context, [b * t, d]);
      } else {
        // [b·t, 3d] -> [3, b, h, t, dh]: q, k and v come out head-major from one transpose.
        const heads = tf.transpose(tf.reshape(qkv, [b, t, 3, h, dh]), [2, 0, 3, 1, 4]);
        const [q, k, v] = tf.unstack(heads, 0) as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
        let scores = tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(dh));
        if (mask) scores = tf.add(scores, tf.reshape(tf.mul(tf.sub(1, mask), MASKED_SCORE), [b, 1, 1, t]));
        const context = tf.matMul(tf.softmax(scores), v);
        merged = tf.reshape(tf.transpose(context, [0, 2, 1, 3]), [b * t, d]);
      }
      return tf.reshape(tf.add(tf.matMul(merged, this.outKernel.read()), this.outBias.read()), [b, t, d]);
    });
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return firstShape(inputShape);
  }

  /** Q, K, V and output projections (4·t·d²) plus Q·Kᵀ and attention·V (2·t²·d, summed over heads). */
  macsPerSample(inputShape: tf.Shape): number {
    const t = inputShape[1] ?? 0;
    const d = inputShape[2] ?? 0;
    return 4 * t * d * d + 2 * t * t * d;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), numHeads: this.numHeads, ...(this.seed === undefined ? {} : { seed: this.seed }) };
  }

  override getClassName(): string {
    return MultiHeadSelfAttention.className;
  }
}

/** Options of PaddingMask. */
export interface PaddingMaskArgs extends SpaceLayerArgs {
  /** Prepend a 1 for a class token that ClassToken puts in front of the sequence. */
  prependClass?: boolean;
}

/**
 * Turns token ids `[batch, sequence]` into a float mask (1 = token, 0 = padding). Padding is id 0,
 * tfjs's `maskZero` convention and the greennas text loaders' PAD id.
 */
export class PaddingMask extends tf.layers.Layer {
  /** Name under which tfjs serialises this layer. */
  static readonly className = 'GreennasSpacePaddingMask';
  /** Whether a leading 1 stands for a class token. */
  readonly prependClass: boolean;

  constructor(args: PaddingMaskArgs = {}) {
    super(args);
    this.prependClass = args.prependClass ?? false;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const tokens = firstInput(inputs);
      const mask = tf.cast(tf.notEqual(tokens, 0), 'float32');
      return this.prependClass ? tf.concat([tf.ones([tokens.shape[0]!, 1]), mask], 1) : mask;
    });
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const [batch, seq] = firstShape(inputShape);
    return [batch ?? null, seq == null ? null : seq + (this.prependClass ? 1 : 0)];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), prependClass: this.prependClass };
  }

  override getClassName(): string {
    return PaddingMask.className;
  }
}

/** Options of MaskedGlobalPooling. */
export interface MaskedGlobalPoolingArgs extends SpaceLayerArgs {
  /** Mean or max over the positions the mask keeps. */
  mode: 'mean' | 'max';
}

/**
 * Mean or max over the unpadded positions of `[batch, sequence, width]`, given `[x, mask]`. A row
 * that is all padding pools to zeros rather than to a division by zero or a huge negative.
 */
export class MaskedGlobalPooling extends tf.layers.Layer {
  /** Name under which tfjs serialises this layer. */
  static readonly className = 'GreennasSpaceMaskedGlobalPooling';
  /** Pooling mode. */
  readonly mode: 'mean' | 'max';

  constructor(args: MaskedGlobalPoolingArgs) {
    super(args);
    if (args.mode !== 'mean' && args.mode !== 'max') throw new Error(`MaskedGlobalPooling mode must be mean or max, got ${String(args.mode)}`);
    this.mode = args.mode;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      if (!Array.isArray(inputs) || inputs.length !== 2) throw new Error('MaskedGlobalPooling takes [x, mask]');
      const x = inputs[0] as tf.Tensor3D;
      const mask = inputs[1] as tf.Tensor2D;
      const m = tf.expandDims(mask, 2);
      const kept = tf.sum(mask, 1, true);
      if (this.mode === 'mean') return tf.div(tf.sum(tf.mul(x, m), 1), tf.maximum(kept, 1));
      const max = tf.max(tf.add(x, tf.mul(tf.sub(1, m), MASKED_SCORE)), 1);
      return tf.mul(max, tf.cast(tf.greater(kept, 0), 'float32'));
    });
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const [batch, , width] = firstShape(inputShape);
    return [batch ?? null, width ?? null];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), mode: this.mode };
  }

  override getClassName(): string {
    return MaskedGlobalPooling.className;
  }
}

tf.serialization.registerClass(PaddingMask);
tf.serialization.registerClass(MaskedGlobalPooling);
tf.serialization.registerClass(PositionEmbedding);
tf.serialization.registerClass(ClassToken);
tf.serialization.registerClass(FirstToken);
tf.serialization.registerClass(MultiHeadSelfAttention);

/** Options of one encoder layer. */
export interface EncoderLayerOptions {
  /** Attention heads. */
  numHeads: number;
  /** Hidden width of the feed-forward network. */
  ffnUnits: number;
  /** Prefix for the layer names, unique within the model. */
  name: string;
  /** Seed for the initialisers; unseeded when absent. */
  seed?: number;
  /** Padding mask `[batch, sequence]` from PaddingMask; attention ignores padded keys when given. */
  mask?: tf.SymbolicTensor;
}

/**
 * One post-LN encoder layer (PyTorch's `TransformerEncoderLayer` with `norm_first=false`, no
 * dropout): x = LN(x + MHSA(x)); x = LN(x + W₂·ReLU(W₁·x)).
 */
export function encoderLayer(x: tf.SymbolicTensor, options: EncoderLayerOptions): tf.SymbolicTensor {
  const width = x.shape[2];
  if (width == null) throw new Error('encoderLayer needs a fixed width');
  const s = options.seed;
  const attn = new MultiHeadSelfAttention({ numHeads: options.numHeads, name: `${options.name}_attn`, ...seeded(s, 0) })
    .apply(options.mask ? [x, options.mask] : x) as tf.SymbolicTensor;
  let y = tf.layers.add({ name: `${options.name}_add1` }).apply([x, attn]) as tf.SymbolicTensor;
  y = new FusedLayerNormalization({ epsilon: 1e-5, name: `${options.name}_ln1` }).apply(y) as tf.SymbolicTensor;
  let f = tf.layers.dense({ units: options.ffnUnits, activation: 'relu', kernelInitializer: tf.initializers.heNormal(seeded(s, 2)), name: `${options.name}_ffn1` })
    .apply(y) as tf.SymbolicTensor;
  f = tf.layers.dense({ units: width, kernelInitializer: tf.initializers.glorotUniform(seeded(s, 3)), name: `${options.name}_ffn2` }).apply(f) as tf.SymbolicTensor;
  const z = tf.layers.add({ name: `${options.name}_add2` }).apply([y, f]) as tf.SymbolicTensor;
  return new FusedLayerNormalization({ epsilon: 1e-5, name: `${options.name}_ln2` }).apply(z) as tf.SymbolicTensor;
}
