import * as tf from '@tensorflow/tfjs';
import { validateDistillation, type DistillationSettings } from './plan.js';
import type { TrainLoss } from '../trainer/train-step.js';

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
