import * as tf from '@tensorflow/tfjs';

/** One optimisation step on a batch; resolves nothing, returns the batch loss when asked. */
export type TrainStep = (x: tf.Tensor, labels: tf.Tensor1D, options?: { readLoss?: boolean }) => number | undefined;

/** A training loss of a logits model other than plain cross-entropy (e.g. distillation), given the batch's inputs too. */
export type TrainLoss = (logits: tf.Tensor, labels: tf.Tensor1D, x: tf.Tensor) => tf.Scalar;

/**
 * Builds a training step for a classifier that outputs logits: softmax cross-entropy against
 * integer labels, gradients for the model's trainable weights only, every intermediate disposed.
 * Reading the loss forces a sync, so callers read it only when they need it. `lossFn` replaces the
 * cross-entropy (compression fine-tunes with a distillation loss).
 */
export function createTrainStep(model: tf.LayersModel, optimizer: tf.Optimizer, classes: number, lossFn?: TrainLoss): TrainStep {
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  return (x, labels, options = {}) => {
    const loss = tf.tidy(() => optimizer.minimize(() => {
      const logits = model.apply(x, { training: true }) as tf.Tensor;
      return lossFn ? lossFn(logits, labels as tf.Tensor1D, x) : tf.losses.softmaxCrossEntropy(tf.oneHot(labels, classes), logits) as tf.Scalar;
    }, true, vars) as tf.Scalar);
    if (!loss) return undefined;
    const value = options.readLoss ? loss.dataSync()[0] : undefined;
    loss.dispose();
    return value;
  };
}

/** Fraction of samples whose arg-max logit equals the label, evaluated in inference mode in chunks. */
export function evaluateAccuracy(model: tf.LayersModel, x: tf.Tensor, labels: Int32Array, batchSize = 256): number {
  const n = x.shape[0];
  let correct = 0;
  for (let start = 0; start < n; start += batchSize) {
    const size = Math.min(batchSize, n - start);
    const pred = tf.tidy(() => {
      const xb = tf.slice(x, start, size);
      return tf.argMax(model.apply(xb, { training: false }) as tf.Tensor, -1);
    });
    const p = pred.dataSync();
    pred.dispose();
    for (let i = 0; i < size; i++) if (p[i] === labels[start + i]) correct++;
  }
  return correct / n;
}
