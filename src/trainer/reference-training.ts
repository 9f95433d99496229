import * as tf from '@tensorflow/tfjs';
import { type BackendInfo, type BackendPreference, initBackend } from './backend.js';
import { buildModelA, buildModelB, MODEL_B_SHAPE } from './reference-models.js';
import { FusedAdamOptimizer } from './fused-adam.js';
import { createTrainStep } from './train-step.js';

/** A timed training run of a reference model, as plain data so it can cross a worker boundary. */
export interface ReferenceTrainTask {
  /** Which reference model: A (MobileNetV2-style, SGD) or B (transformer, Adam). */
  model: 'A' | 'B';
  /** Backend to initialise in the thread that runs the task. */
  backend: BackendPreference;
  /** Samples per step. */
  batchSize: number;
  /** Untimed steps first (kernel set-up, JIT). */
  warmupSteps: number;
  /** Timed steps. */
  steps: number;
  /** Seed of the weight initialisers. */
  seed: number;
  /** Training inputs, cycled batch by batch: A float32 [n, 28, 28, 1] in [0, 1], B int32 token ids [n, 64]. */
  inputs: Float32Array | Int32Array;
  /** One integer class per input sample. */
  labels: Int32Array;
}

/** What a reference training run measured. */
export interface ReferenceTrainResult {
  /** The backend the thread trained on. */
  backend: BackendInfo;
  /** Samples trained in the timed window. */
  samples: number;
  /** Length of the timed window. */
  durationS: number;
  /** samples / durationS. */
  samplesPerS: number;
  /** Timed window start and end, ms since the Unix epoch (comparable across threads). */
  startEpochMs: number;
  /** See startEpochMs. */
  endEpochMs: number;
  /** Loss of the last step. */
  finalLoss: number;
  /** tf.memory().numTensors after the warm-up and after the timed steps (equal when nothing leaks). */
  numTensorsBefore: number;
  /** See numTensorsBefore. */
  numTensorsAfter: number;
}

/** Trains a reference model in this thread and times the steady-state steps. */
export async function runReferenceTraining(task: ReferenceTrainTask): Promise<ReferenceTrainResult> {
  const backend = await initBackend(task.backend);
  const sampleSize = task.model === 'A' ? 28 * 28 : MODEL_B_SHAPE.sequenceLength;
  const count = task.labels.length;
  if (count < task.batchSize || task.inputs.length !== count * sampleSize) {
    throw new Error(`reference training needs at least one batch of ${sampleSize}-value samples; got ${count} labels, ${task.inputs.length} values`);
  }
  const model = task.model === 'A' ? buildModelA({ seed: task.seed }) : buildModelB();
  const optimizer = task.model === 'A' ? tf.train.sgd(0.05) : new FusedAdamOptimizer(1e-3);
  const step = createTrainStep(model, optimizer, task.model === 'A' ? 10 : MODEL_B_SHAPE.classes);
  const batches = Math.floor(count / task.batchSize);
  const batch = (i: number): [tf.Tensor, tf.Tensor1D] => {
    const start = (i % batches) * task.batchSize;
    const x = task.model === 'A'
      ? tf.tensor4d((task.inputs as Float32Array).subarray(start * sampleSize, (start + task.batchSize) * sampleSize), [task.batchSize, 28, 28, 1])
      : tf.tensor2d((task.inputs as Int32Array).subarray(start * sampleSize, (start + task.batchSize) * sampleSize), [task.batchSize, sampleSize], 'int32');
    return [x, tf.tensor1d(task.labels.subarray(start, start + task.batchSize), 'int32')];
  };
  const run = (i: number, readLoss: boolean): number | undefined => {
    const [x, y] = batch(i);
    const loss = step(x, y, { readLoss });
    tf.dispose([x, y]);
    return loss;
  };
  try {
    for (let i = 0; i < task.warmupSteps; i++) run(i, i === task.warmupSteps - 1);
    const numTensorsBefore = tf.memory().numTensors;
    const t0 = performance.now();
    let finalLoss = NaN;
    for (let i = 0; i < task.steps; i++) {
      const loss = run(task.warmupSteps + i, i === task.steps - 1);
      if (loss !== undefined) finalLoss = loss;
    }
    const t1 = performance.now();
    const durationS = (t1 - t0) / 1000;
    const samples = task.steps * task.batchSize;
    return {
      backend, samples, durationS, samplesPerS: samples / durationS,
      startEpochMs: performance.timeOrigin + t0, endEpochMs: performance.timeOrigin + t1,
      finalLoss, numTensorsBefore, numTensorsAfter: tf.memory().numTensors,
    };
  } finally {
    model.dispose();
    optimizer.dispose();
  }
}
