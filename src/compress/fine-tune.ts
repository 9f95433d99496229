import type * as tf from '@tensorflow/tfjs';
import { proxyTrain, type ProxyBudget, type ProxyTrainResult } from '../trainer/proxy-training.js';
import type { DataSplit } from '../data/index.js';
import { distillationLoss } from './distillation.js';
import type { DistillationSettings } from './plan.js';
import type { WeightMasks } from './magnitude-pruning.js';

/** The data fine-tuning trains and validates on. */
export interface FineTuneData {
  /** Training split. */
  train: DataSplit;
  /** Validation split (checkpoints). */
  validation: DataSplit;
  /** One sample's shape. */
  inputShape: readonly number[];
  /** Classes. */
  numClasses: number;
}

/** What fine-tuning adds to plain proxy training. */
export interface FineTuneOptions {
  /** Keep these zeros zero: re-applied after every optimiser step. */
  masks?: WeightMasks;
  /** Train on a teacher's soft targets as well as the labels. */
  distill?: { teacher: tf.LayersModel } & DistillationSettings;
}

/**
 * Fine-tunes a compressed model in place with the run's proxy trainer and budget (same optimiser,
 * schedule, batch size and seed), optionally with fixed pruning masks and a distillation loss.
 * The masks are applied once more before returning, so the result is exactly as sparse as promised.
 */
export async function fineTune(model: tf.LayersModel, data: FineTuneData, budget: ProxyBudget, options: FineTuneOptions = {}): Promise<ProxyTrainResult> {
  const { masks, distill } = options;
  masks?.apply();
  const result = await proxyTrain(model, data, budget, undefined, {
    loss: distill ? distillationLoss(distill.teacher, data.numClasses, distill) : undefined,
    afterStep: masks ? () => masks.apply() : undefined,
  });
  masks?.apply();
  return result;
}
