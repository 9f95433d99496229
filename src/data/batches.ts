import { createRng } from '../core/index.js';
import type { DataSplit } from './dataset.js';
import { shuffleIndices } from './splits.js';

/** One mini-batch as plain typed arrays; the trainer turns them into tensors. */
export interface Batch {
  /** Samples, row-major: float pixels in [0, 1] for images, token ids for text. */
  x: Float32Array | Int32Array;
  /** Labels. */
  y: Int32Array;
  /** Samples in this batch (the last one may be smaller unless `dropLast`). */
  size: number;
  /** Elements per sample. */
  sampleSize: number;
  /** Position of each sample in its split. */
  indices: Int32Array;
}

/** How to walk a split. */
export interface BatchOptions {
  /** Samples per batch. */
  batchSize: number;
  /** Visit samples in a seeded random order (default false: split order). */
  shuffle?: boolean;
  /** Seed of the order; combined with `epoch` so every epoch has its own reproducible order. */
  seed?: number | string;
  /** Epoch number, mixed into the shuffle seed (default 0). */
  epoch?: number;
  /** Skip a last batch smaller than `batchSize` (default false). */
  dropLast?: boolean;
  /** Stop after this many batches (a proxy budget's `--max-steps`). */
  maxBatches?: number;
}

/** Number of batches `iterateBatches` yields for a split of `count` samples. */
export function batchCount(count: number, options: Pick<BatchOptions, 'batchSize' | 'dropLast' | 'maxBatches'>): number {
  const n = options.dropLast ? Math.floor(count / options.batchSize) : Math.ceil(count / options.batchSize);
  return options.maxBatches === undefined ? n : Math.min(n, options.maxBatches);
}

/** The order `iterateBatches` visits a split in: identity, or a seeded permutation for (seed, epoch). */
export function batchOrder(count: number, options: Pick<BatchOptions, 'shuffle' | 'seed' | 'epoch'>): Int32Array {
  const order = Int32Array.from({ length: count }, (_, i) => i);
  if (options.shuffle) shuffleIndices(order, createRng(`${options.seed ?? 0}/epoch-${options.epoch ?? 0}`));
  return order;
}

/**
 * Yields mini-batches of a split. Image bytes are scaled to [0, 1] here, per batch, so a split stays
 * at one byte per pixel in memory; token ids are copied as they are. Each batch owns fresh arrays.
 */
export function* iterateBatches(split: DataSplit, options: BatchOptions): Generator<Batch> {
  const { batchSize } = options;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be a whole number ≥ 1, got ${batchSize}`);
  const order = batchOrder(split.count, options);
  const total = batchCount(split.count, options);
  const { sampleSize } = split;
  const pixels = split.x instanceof Uint8Array;
  for (let b = 0; b < total; b++) {
    const start = b * batchSize;
    const size = Math.min(batchSize, split.count - start);
    const indices = order.slice(start, start + size);
    const x = pixels ? new Float32Array(size * sampleSize) : new Int32Array(size * sampleSize);
    const y = new Int32Array(size);
    for (let k = 0; k < size; k++) {
      const i = indices[k] as number;
      const row = split.x.subarray(i * sampleSize, (i + 1) * sampleSize);
      if (pixels) {
        const offset = k * sampleSize;
        for (let j = 0; j < sampleSize; j++) x[offset + j] = (row[j] as number) / 255;
      } else {
        (x as Int32Array).set(row, k * sampleSize);
      }
      y[k] = split.y[i] as number;
    }
    yield { x, y, size, sampleSize, indices };
  }
}

/** A whole split as one batch (evaluation on a small split, latency probes). */
export function splitAsBatch(split: DataSplit): Batch {
  const [batch] = iterateBatches(split, { batchSize: Math.max(1, split.count) });
  return batch ?? { x: new Float32Array(0), y: new Int32Array(0), size: 0, sampleSize: split.sampleSize, indices: new Int32Array(0) };
}
