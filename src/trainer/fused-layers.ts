import * as tf from '@tensorflow/tfjs';
import { batchNormTraining, layerNormalization } from './fused-ops.js';

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
