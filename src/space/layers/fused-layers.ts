/**
 * Normalisation and activation layers that train fast: each training-mode op is one kernel each way
 * when the trainer has registered its fused kernels for the current backend (by the names below),
 * and the stock tfjs composition otherwise, so a model built here runs (more slowly) anywhere.
 */
import * as tf from '@tensorflow/tfjs';

/** Kernel: training-mode batch norm over all axes but the last; outputs [y, mean, variance (biased)]. */
export const BATCH_NORM_TRAIN = 'GreennasBatchNormTrain';
/** Kernel: gradients of BATCH_NORM_TRAIN; outputs [dx, dgamma, dbeta]. */
export const BATCH_NORM_TRAIN_GRAD = 'GreennasBatchNormTrainGrad';
/** Kernel: layer norm over the last axis; outputs [y, mean, rstd] (one mean and 1/σ per row). */
export const LAYER_NORM = 'GreennasLayerNorm';
/** Kernel: gradients of LAYER_NORM; outputs [dx, dgamma, dbeta]. */
export const LAYER_NORM_GRAD = 'GreennasLayerNormGrad';
/** Kernel: the ReLU6 gradient in one pass (passes dy where 0 < x ≤ 6, as stock tfjs does). */
export const RELU6_GRAD = 'GreennasRelu6Grad';

function hasFusedKernels(): boolean {
  return tf.getKernel(BATCH_NORM_TRAIN, tf.getBackend()) != null;
}

/**
 * Training-mode batch normalisation over the last axis, optionally followed by ReLU6 in the same
 * kernel. Returns the output and the batch mean and (biased) variance for the moving averages;
 * differentiable in x, gamma and beta.
 */
export function batchNormTraining(x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D, epsilon: number, relu6 = false):
  { y: tf.Tensor; mean: tf.Tensor1D; variance: tf.Tensor1D } {
  if (!hasFusedKernels()) {
    const axes = x.shape.slice(0, -1).map((_, i) => i);
    const { mean, variance } = tf.moments(x, axes);
    const z = tf.batchNorm(x, mean, variance, beta, gamma, epsilon);
    return { y: relu6 ? tf.relu6(z) : z, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
  }
  const [y, mean, variance] = tf.engine().runKernel(BATCH_NORM_TRAIN, { x, gamma, beta }, { epsilon, relu6 }) as tf.Tensor[];
  return { y: y!, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
}

/** Layer normalisation over the last axis (differentiable in x, gamma and beta), fused where available. */
export function layerNormalization(x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D, epsilon: number): tf.Tensor {
  if (!hasFusedKernels()) {
    return tf.tidy(() => {
      const { mean, variance } = tf.moments(x, -1, true);
      return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, epsilon))), gamma), beta);
    });
  }
  const [y] = tf.engine().runKernel(LAYER_NORM, { x, gamma, beta }, { epsilon }) as tf.Tensor[];
  return y!;
}

type Kwargs = Record<string, unknown>;

/**
 * Batch normalisation over the last axis, like `tf.layers.batchNormalization` (same weights,
 * momentum 0.99 and epsilon 1e-3 defaults, moving averages of the biased batch variance), but
 * training mode runs one fused kernel forward and one backward, optionally with ReLU6 fused in.
 */
export class FusedBatchNormalization extends tf.layers.Layer {
  /** Name under which tfjs serialises this layer. */
  static readonly className = 'GreennasFusedBatchNormalization';
  /** Weight of the old value in the moving averages. */
  readonly momentum: number;
  /** Added to the variance before the square root. */
  readonly epsilon: number;
  /** Whether ReLU6 follows in the same kernel. */
  readonly activation: 'linear' | 'relu6';
  private gamma!: tf.LayerVariable;
  private beta!: tf.LayerVariable;
  private movingMean!: tf.LayerVariable;
  private movingVariance!: tf.LayerVariable;

  constructor(args: { momentum?: number; epsilon?: number; activation?: 'linear' | 'relu6'; name?: string; trainable?: boolean } = {}) {
    super(args);
    this.momentum = args.momentum ?? 0.99;
    this.epsilon = args.epsilon ?? 1e-3;
    this.activation = args.activation ?? 'linear';
    this.supportsMasking = true;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = inputShape as tf.Shape;
    const c = shape[shape.length - 1];
    if (c == null) throw new Error('FusedBatchNormalization needs a fixed channel count');
    this.gamma = this.addWeight('gamma', [c], 'float32', tf.initializers.ones());
    this.beta = this.addWeight('beta', [c], 'float32', tf.initializers.zeros());
    this.movingMean = this.addWeight('moving_mean', [c], 'float32', tf.initializers.zeros(), undefined, false);
    this.movingVariance = this.addWeight('moving_variance', [c], 'float32', tf.initializers.ones(), undefined, false);
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0]! : inputs;
      const relu6 = this.activation === 'relu6';
      if (!kwargs.training) {
        const z = tf.batchNorm(x, this.movingMean.read(), this.movingVariance.read(), this.beta.read(), this.gamma.read(), this.epsilon);
        return relu6 ? tf.relu6(z) : z;
      }
      const { y, mean, variance } = batchNormTraining(x, this.gamma.read() as tf.Tensor1D, this.beta.read() as tf.Tensor1D, this.epsilon, relu6);
      const decay = 1 - this.momentum;
      for (const [v, batch] of [[this.movingMean, mean], [this.movingVariance, variance]] as const) {
        const old = v.read();
        v.write(tf.sub(old, tf.mul(tf.sub(old, batch), decay)));
      }
      return y;
    });
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), momentum: this.momentum, epsilon: this.epsilon, activation: this.activation };
  }

  override getClassName(): string {
    return FusedBatchNormalization.className;
  }
}

/** min(max(x, 0), 6) as one kernel, with a one-kernel gradient once the fused ops are registered. */
export class Relu6 extends tf.layers.Layer {
  /** Name under which tfjs serialises this layer. */
  static readonly className = 'GreennasRelu6';

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => tf.relu6(Array.isArray(inputs) ? inputs[0]! : inputs));
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override getClassName(): string {
    return Relu6.className;
  }
}

/**
 * Layer normalisation over the last axis with learned scale and offset, as
 * `tf.layers.layerNormalization` computes it, as one fused kernel each way (the stock layer tiles
 * gamma and beta per row, and the Tile gradient is one slice and add per row).
 */
export class FusedLayerNormalization extends tf.layers.Layer {
  /** Name under which tfjs serialises this layer. */
  static readonly className = 'GreennasFusedLayerNormalization';
  /** Added to the variance before the square root. */
  readonly epsilon: number;
  private gamma!: tf.LayerVariable;
  private beta!: tf.LayerVariable;

  constructor(args: { epsilon?: number; name?: string; trainable?: boolean } = {}) {
    super(args);
    this.epsilon = args.epsilon ?? 1e-3;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = inputShape as tf.Shape;
    const d = shape[shape.length - 1];
    if (d == null) throw new Error('FusedLayerNormalization needs a fixed last dimension');
    this.gamma = this.addWeight('gamma', [d], 'float32', tf.initializers.ones());
    this.beta = this.addWeight('beta', [d], 'float32', tf.initializers.zeros());
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => layerNormalization(Array.isArray(inputs) ? inputs[0]! : inputs,
      this.gamma.read() as tf.Tensor1D, this.beta.read() as tf.Tensor1D, this.epsilon));
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), epsilon: this.epsilon };
  }

  override getClassName(): string {
    return FusedLayerNormalization.className;
  }
}

tf.serialization.registerClass(FusedBatchNormalization);
tf.serialization.registerClass(FusedLayerNormalization);
tf.serialization.registerClass(Relu6);
