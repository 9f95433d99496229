import { UserError } from '../core/index.js';
import type { Task } from '../space/index.js';

/**
 * How far a baseline is scaled down from its reference for proxy-scale training: `width` multiplies
 * channel counts (vision) or attention heads at a fixed head size of 64 (text); `depth` multiplies
 * the blocks per stage (vision) or the encoder layers (text). 1 and 1 is the reference architecture.
 * Input size and sequence length come from the task the model is built for.
 */
export interface ScaledVariant {
  /** Width multiplier, in (0, 1]. */
  width: number;
  /** Depth multiplier, in (0, 1]. */
  depth: number;
}

/** torchvision's `_make_divisible`: nearest multiple of `divisor`, at least `divisor`, never more than 10 % below `v`. */
export function makeDivisible(v: number, divisor = 8): number {
  let rounded = Math.max(divisor, Math.floor((v + divisor / 2) / divisor) * divisor);
  if (rounded < 0.9 * v) rounded += divisor;
  return rounded;
}

/** Channels of a layer whose reference count is `base`, scaled by `width` (exact at width 1). */
export function scaledChannels(base: number, width: number): number {
  return makeDivisible(base * width);
}

/** Blocks or layers of a stage whose reference count is `base`, scaled by `depth` (at least one; exact at depth 1). */
export function scaledCount(base: number, depth: number): number {
  return Math.max(1, Math.round(base * depth));
}

/** Height, width and channels of an image task, or a UserError naming the model and the task's shape. */
export function imageSize(task: Task, model: string): [number, number, number] {
  const shape = task.inputShape;
  if (task.kind !== 'image' || (shape.length !== 2 && shape.length !== 3) || !shape.every((d) => Number.isInteger(d) && d > 0)) {
    throw new UserError(`baseline ${model} needs an image task with input shape [height, width] or [height, width, channels]; dataset ${task.dataset} is ${task.kind} with shape [${shape.join(', ')}]. Fix: compare it on an image dataset.`);
  }
  return [shape[0]!, shape[1]!, shape[2] ?? 1];
}

/** Sequence length and vocabulary of a text task, or a UserError naming the model and the task. */
export function textSize(task: Task, model: string): { seqLen: number; vocabSize: number } {
  const [seqLen] = task.inputShape;
  if (task.kind !== 'text' || task.inputShape.length !== 1 || !Number.isInteger(seqLen) || (seqLen as number) < 1) {
    throw new UserError(`baseline ${model} needs a text task with input shape [sequenceLength]; dataset ${task.dataset} is ${task.kind} with shape [${task.inputShape.join(', ')}]. Fix: compare it on a text dataset.`);
  }
  if (task.vocabSize === undefined || !Number.isInteger(task.vocabSize) || task.vocabSize < 2) {
    throw new UserError(`baseline ${model} needs the task's vocabulary size; dataset ${task.dataset} gives ${String(task.vocabSize)}. The text loader must set vocabSize.`);
  }
  return { seqLen: seqLen as number, vocabSize: task.vocabSize };
}
