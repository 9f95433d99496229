import * as tf from '@tensorflow/tfjs';
import { UserError } from '../core/index.js';
import type { TrainLoss } from '../trainer/train-step.js';

/** Knowledge-distillation settings (Hinton et al. 2015). */
export interface DistillationSettings {
  /** Softmax temperature T applied to both teacher and student logits (> 0). */
  temperature: number;
  /** Weight α of the soft-target term; 1 − α weighs the hard-label cross-entropy. In [0, 1]. */
  alpha: number;
}

/** Checks temperature and α, naming the flag at fault. */
export function validateDistillation(s: DistillationSettings): DistillationSettings {
  if (!(Number.isFinite(s.temperature) && s.temperature > 0)) {
    throw new UserError(`--temperature must be a positive number, got ${s.temperature}. Fix: pass e.g. --temperature 4.`, { subject: '--temperature' });
  }
  if (!(Number.isFinite(s.alpha) && s.alpha >= 0 && s.alpha <= 1)) {
    throw new UserError(`--alpha must be a fraction in [0, 1], got ${s.alpha}. Fix: pass e.g. --alpha 0.7.`, { subject: '--alpha' });
  }
  return s;
}

/**
 * Mean over the batch of α·T²·KL(softmax(t/T) ‖ softmax(s/T)) + (1 − α)·CE(s, y). The T² keeps the
 * soft term's gradients on the scale of the hard term's as T grows.
 */
export function distillationLossValue(studentLogits: tf.Tensor, teacherLogits: tf.Tensor, labels: tf.Tensor1D, numClasses: number, s: DistillationSettings): tf.Scalar {
  return tf.tidy(() => {
    const logPt = tf.logSoftmax(tf.div(teacherLogits, s.temperature));
    const logPs = tf.logSoftmax(tf.div(studentLogits, s.temperature));
    const kl = tf.mean(tf.sum(tf.mul(tf.exp(logPt), tf.sub(logPt, logPs)), -1));
    const ce = tf.losses.softmaxCrossEntropy(tf.oneHot(labels, numClasses), studentLogits);
    return tf.add(tf.mul(kl, s.alpha * s.temperature * s.temperature), tf.mul(ce, 1 - s.alpha)) as tf.Scalar;
  });
}

/**
 * A training loss that distils `teacher` into the model being trained: the teacher runs in inference
 * mode on the same batch; its logits depend on no trained variable, so no gradient flows into it.
 */
export function distillationLoss(teacher: tf.LayersModel, numClasses: number, settings: DistillationSettings): TrainLoss {
  const s = validateDistillation(settings);
  return (logits, labels, x) => {
    const t = teacher.apply(x, { training: false }) as tf.Tensor;
    return distillationLossValue(logits, t, labels, numClasses, s);
  };
}
