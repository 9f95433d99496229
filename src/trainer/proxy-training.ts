import * as tf from '@tensorflow/tfjs';
import { TrialError } from '../core/index.js';
import { batchCount, iterateBatches, type Batch, type DataSplit } from '../data/index.js';
import { FusedAdamOptimizer } from './fused-adam.js';
import { createTrainStep, type TrainLoss } from './train-step.js';

/** Optimisers a proxy can train with. */
export type ProxyOptimizerName = 'adam' | 'sgd';

/** The proxy-training budget and optimiser, identical for every trial of a run. */
export interface ProxyBudget {
  /** Passes over the (sub-sampled) training split. */
  epochs: number;
  /** Samples per step. */
  batchSize: number;
  /** Stop after this many optimisation steps in total, whatever the epochs say. */
  maxSteps?: number;
  /** `adam`, or `sgd` with momentum 0.9. */
  optimizer: ProxyOptimizerName;
  /** Peak learning rate (cosine-decayed to 0 over the planned steps, after a short warm-up). */
  learningRate: number;
  /** Seed of the batch order and the weight initialisers. */
  seed: number;
}

/** One point of a learning curve, reported at each checkpoint. */
export interface CurvePoint {
  /** Optimisation steps done so far. */
  step: number;
  /** Steps planned in the whole budget. */
  plannedSteps: number;
  /** Epoch just finished (1-based), or a fractional epoch for a mid-epoch checkpoint. */
  epoch: number;
  /** Validation accuracy (fraction) at this point. */
  valAccuracy: number;
  /** Mean training loss since the previous checkpoint. */
  trainLoss: number;
}

/** What proxyTrain ends with. */
export interface ProxyTrainResult {
  /** Steps done (fewer than planned when stopped early). */
  steps: number;
  /** Steps the budget planned. */
  plannedSteps: number;
  /** Last validation accuracy (fraction). */
  valAccuracy: number;
  /** The learning curve, one point per checkpoint. */
  curve: CurvePoint[];
  /** Whether `shouldStop` ended training before the budget. */
  stoppedEarly: boolean;
}

/** Optional changes to proxy training, for fine-tuning compressed models. */
export interface ProxyTrainHooks {
  /** Replaces the softmax cross-entropy (e.g. a distillation loss). */
  loss?: TrainLoss;
  /** Runs after every optimiser step (e.g. re-applying a pruning mask so zeros stay zero). */
  afterStep?: () => void;
}

/** How often the loss is read back to catch NaN (reading forces a sync, so not every step). */
const LOSS_CHECK_EVERY = 10;

/** Turns a batch into an input tensor of the model's sample shape. */
export function batchTensor(batch: Pick<Batch, 'x' | 'size'>, inputShape: readonly number[]): tf.Tensor {
  return batch.x instanceof Int32Array
    ? tf.tensor(batch.x, [batch.size, ...inputShape], 'int32')
    : tf.tensor(batch.x, [batch.size, ...inputShape], 'float32');
}

/** Fraction of a split classified correctly, in inference mode, batch by batch. */
export function splitAccuracy(model: tf.LayersModel, split: DataSplit, inputShape: readonly number[], batchSize = 500): number {
  if (split.count === 0) return Number.NaN;
  let correct = 0;
  for (const batch of iterateBatches(split, { batchSize })) {
    const pred = tf.tidy(() => tf.argMax(model.apply(batchTensor(batch, inputShape), { training: false }) as tf.Tensor, -1));
    const p = pred.dataSync();
    pred.dispose();
    for (let i = 0; i < batch.size; i++) if (p[i] === batch.y[i]) correct++;
  }
  return correct / split.count;
}

/** Samples whose batch statistics replace the moving averages before each evaluation. */
export const RECALIBRATION_SAMPLES = 512;

/**
 * Sets every batch-normalisation layer's moving mean and variance to the statistics of one batch of
 * training samples (momentum 0 for one training-mode forward pass). A proxy trains a few hundred
 * steps, far too few for moving averages with momentum 0.99 to forget their initial 0 / 1, which
 * would make inference-mode accuracy meaningless; this is the usual recalibration of NAS proxies.
 * Models without batch normalisation are left alone.
 */
export function recalibrateBatchNorm(model: tf.LayersModel, train: DataSplit, inputShape: readonly number[], samples = RECALIBRATION_SAMPLES): void {
  const layers = model.layers.filter((l) => 'movingMean' in l && 'momentum' in l) as unknown as { momentum: number }[];
  if (layers.length === 0 || train.count === 0) return;
  const saved = layers.map((l) => l.momentum);
  try {
    for (const l of layers) (l as { momentum: number }).momentum = 0;
    const [batch] = iterateBatches(train, { batchSize: Math.min(samples, train.count), shuffle: true, seed: 'recalibration' });
    if (batch) tf.tidy(() => { model.apply(batchTensor(batch, inputShape), { training: true }); });
  } finally {
    layers.forEach((l, i) => { l.momentum = saved[i] as number; });
  }
}

/** Learning rate at `step` of `total`: linear warm-up over the first 5 % of steps, then cosine decay to 0. */
export function scheduledLearningRate(peak: number, step: number, total: number): number {
  const warmup = Math.max(1, Math.floor(total * 0.05));
  if (step < warmup) return (peak * (step + 1)) / warmup;
  const t = (step - warmup) / Math.max(1, total - warmup);
  return 0.5 * peak * (1 + Math.cos(Math.PI * Math.min(1, t)));
}

function createOptimizer(name: ProxyOptimizerName, learningRate: number): tf.Optimizer {
  return name === 'adam' ? new FusedAdamOptimizer(learningRate) : tf.train.momentum(learningRate, 0.9);
}

/** Adam reads `learningRate` at each step; momentum SGD keeps a negated scalar that setLearningRate rebuilds. */
function setLearningRate(optimizer: tf.Optimizer, learningRate: number): void {
  const o = optimizer as unknown as { learningRate: number; setLearningRate?: (lr: number) => void };
  if (o.setLearningRate) o.setLearningRate(learningRate);
  else o.learningRate = learningRate;
}

/** Steps a budget plans for a training split of `count` samples. */
export function plannedSteps(budget: Pick<ProxyBudget, 'epochs' | 'batchSize' | 'maxSteps'>, count: number): number {
  const perEpoch = batchCount(count, { batchSize: budget.batchSize, dropLast: count >= budget.batchSize });
  const total = perEpoch * budget.epochs;
  return budget.maxSteps === undefined ? total : Math.min(total, budget.maxSteps);
}

/**
 * Trains a logits model on a split with the proxy budget: softmax cross-entropy, the chosen optimiser
 * with warm-up + cosine learning rate, a seeded batch order per epoch. The loss is read every few
 * steps; a non-finite loss ends the trial as a TrialError (`E_NAN_LOSS`). Validation accuracy is
 * measured at every checkpoint (each epoch end, and half-way through a one-epoch budget);
 * `shouldStop` sees each point and may end training early (dominance pruning). The optimiser's slots
 * are disposed before returning, so only the model's own weights stay allocated. `hooks` may replace
 * the loss and act after each step (compression's fine-tuning).
 */
export async function proxyTrain(
  model: tf.LayersModel,
  data: { train: DataSplit; validation: DataSplit; inputShape: readonly number[]; numClasses: number },
  budget: ProxyBudget,
  shouldStop: (point: CurvePoint) => boolean | Promise<boolean> = () => false,
  hooks: ProxyTrainHooks = {},
): Promise<ProxyTrainResult> {
  const total = plannedSteps(budget, data.train.count);
  if (total < 1) throw new TrialError(`the proxy budget plans no training step (train split of ${data.train.count} samples, batch ${budget.batchSize})`, 'E_EMPTY_BUDGET');
  const optimizer = createOptimizer(budget.optimizer, budget.learningRate);
  const step = createTrainStep(model, optimizer, data.numClasses, hooks.loss);
  const perEpoch = batchCount(data.train.count, { batchSize: budget.batchSize, dropLast: data.train.count >= budget.batchSize });
  // A one-epoch budget still gets a mid-way checkpoint, so pruning can act on it.
  const checkpoints = new Set<number>();
  for (let e = 1; e <= budget.epochs; e++) checkpoints.add(Math.min(total, e * perEpoch));
  if (budget.epochs === 1 || total < perEpoch) checkpoints.add(Math.max(1, Math.floor(total / 2)));
  checkpoints.add(total);
  const curve: CurvePoint[] = [];
  let done = 0;
  let lossSum = 0;
  let lossCount = 0;
  let stoppedEarly = false;
  try {
    outer: for (let epoch = 0; done < total; epoch++) {
      for (const batch of iterateBatches(data.train, { batchSize: budget.batchSize, shuffle: true, seed: budget.seed, epoch, dropLast: data.train.count >= budget.batchSize })) {
        setLearningRate(optimizer, scheduledLearningRate(budget.learningRate, done, total));
        const readLoss = done % LOSS_CHECK_EVERY === 0 || checkpoints.has(done + 1);
        const x = batchTensor(batch, data.inputShape);
        const y = tf.tensor1d(batch.y, 'int32');
        let loss: number | undefined;
        try {
          loss = step(x, y, { readLoss });
        } finally {
          x.dispose();
          y.dispose();
        }
        hooks.afterStep?.();
        done++;
        if (loss !== undefined) {
          if (!Number.isFinite(loss)) {
            throw new TrialError(`training loss became ${loss} at step ${done} of ${total} (learning rate ${budget.learningRate}); the proxy diverged`, 'E_NAN_LOSS');
          }
          lossSum += loss;
          lossCount++;
        }
        if (checkpoints.has(done)) {
          recalibrateBatchNorm(model, data.train, data.inputShape);
          const point: CurvePoint = {
            step: done, plannedSteps: total, epoch: Math.round((done / perEpoch) * 100) / 100,
            valAccuracy: splitAccuracy(model, data.validation, data.inputShape), trainLoss: lossCount ? lossSum / lossCount : Number.NaN,
          };
          lossSum = 0;
          lossCount = 0;
          curve.push(point);
          if ((await shouldStop(point)) && done < total) {
            stoppedEarly = true;
            break outer;
          }
        }
        if (done >= total) break outer;
      }
    }
  } finally {
    optimizer.dispose();
  }
  const last = curve[curve.length - 1];
  return { steps: done, plannedSteps: total, valAccuracy: last?.valAccuracy ?? Number.NaN, curve, stoppedEarly };
}
