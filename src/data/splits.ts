import { shuffleInPlace, UserError, type Rng } from '../core/index.js';
import type { DataSplit, SampleArray } from './dataset.js';

/** Fisher–Yates shuffle of an Int32Array in place with the given Rng; returns the array. */
export function shuffleIndices(indices: Int32Array, rng: Rng): Int32Array {
  return shuffleInPlace(indices, rng);
}

/**
 * Turns a size option into a sample count: a fraction in (0, 1) of `total`, or an integer count ≥ 1.
 * `flag` names the option in the error message.
 */
export function resolveSize(size: number, total: number, flag: string): number {
  if (!Number.isFinite(size) || size < 0) {
    throw new UserError(`${flag} must be a fraction in (0, 1) or a whole count ≥ 1, got ${size}.`, { subject: flag });
  }
  if (size === 0) return 0;
  if (size < 1) return Math.round(size * total);
  if (!Number.isInteger(size)) {
    throw new UserError(`${flag} must be a fraction in (0, 1) or a whole count ≥ 1, got ${size}.`, { subject: flag });
  }
  return size;
}

/**
 * Splits sample positions into parts of the given sizes, stratified by label: each part gets each
 * class in (as nearly as whole numbers allow) the class's overall proportion, with exact part totals.
 * The last part takes everything left. Indices inside each part are returned in ascending order, so a
 * split keeps source order and only the batch iterator shuffles.
 */
export function stratifiedPartition(labels: Int32Array, numClasses: number, sizes: number[], rng: Rng): Int32Array[] {
  const total = labels.length;
  const fixed = sizes.reduce((a, b) => a + b, 0);
  if (fixed > total) throw new RangeError(`stratifiedPartition: parts of ${fixed} samples from ${total}`);
  const byClass: number[][] = Array.from({ length: numClasses }, () => []);
  for (let i = 0; i < total; i++) (byClass[labels[i] as number] as number[]).push(i);
  const pools = byClass.map((members, c) => shuffleIndices(Int32Array.from(members), rng.fork(`class-${c}`)));
  const remaining = pools.map((p) => p.length);
  const cursor = new Array<number>(numClasses).fill(0);
  const parts: number[][] = [];
  for (const target of sizes) {
    const left = remaining.reduce((a, b) => a + b, 0);
    const quota = remaining.map((r) => (left === 0 ? 0 : (target * r) / left));
    const take = quota.map((q, c) => Math.min(Math.floor(q), remaining[c] as number));
    let short = target - take.reduce((a, b) => a + b, 0);
    // Largest remainder, ties to the lower class id, so totals are exact and the draw is reproducible.
    const order = quota.map((q, c) => ({ c, frac: q - Math.floor(q) })).sort((a, b) => b.frac - a.frac || a.c - b.c);
    for (let k = 0; short > 0 && k < order.length * 2; k++) {
      const c = (order[k % order.length] as { c: number }).c;
      if ((take[c] as number) < (remaining[c] as number)) {
        take[c] = (take[c] as number) + 1;
        short--;
      }
    }
    const part: number[] = [];
    for (let c = 0; c < numClasses; c++) {
      const pool = pools[c] as Int32Array;
      const n = take[c] as number;
      for (let k = 0; k < n; k++) part.push(pool[(cursor[c] as number) + k] as number);
      cursor[c] = (cursor[c] as number) + n;
      remaining[c] = (remaining[c] as number) - n;
    }
    parts.push(part);
  }
  const rest: number[] = [];
  for (let c = 0; c < numClasses; c++) {
    const pool = pools[c] as Int32Array;
    for (let k = cursor[c] as number; k < pool.length; k++) rest.push(pool[k] as number);
  }
  parts.push(rest);
  return parts.map((p) => Int32Array.from(p).sort());
}

/** Allocates a typed array of `length` elements, on a SharedArrayBuffer when `shared`. */
function allocate<T extends SampleArray>(ctor: { new (n: number): T; new (b: SharedArrayBuffer): T; BYTES_PER_ELEMENT: number }, length: number, shared: boolean): T {
  return shared ? new ctor(new SharedArrayBuffer(length * ctor.BYTES_PER_ELEMENT)) : new ctor(length);
}

/**
 * Builds a split from the rows `indices` of a source: copies samples and labels into fresh compact
 * arrays (so the source buffer can be freed) and records where each row came from.
 */
export function gatherSplit(
  source: { x: SampleArray; y: Int32Array | Uint8Array; sampleSize: number; sourceIndex?: Int32Array },
  indices: Int32Array,
  shared = false,
): DataSplit {
  const { sampleSize } = source;
  const count = indices.length;
  const x = source.x instanceof Uint8Array
    ? allocate(Uint8Array, count * sampleSize, shared)
    : allocate(Int32Array, count * sampleSize, shared);
  const y = allocate(Int32Array, count, shared);
  const sourceIndex = allocate(Int32Array, count, shared);
  for (let k = 0; k < count; k++) {
    const i = indices[k] as number;
    y[k] = source.y[i] as number;
    sourceIndex[k] = source.sourceIndex ? (source.sourceIndex[i] as number) : i;
  }
  // Copy runs of consecutive rows in one go: indices are usually sorted and dense (a 90 % train split).
  for (let k = 0; k < count;) {
    const first = indices[k] as number;
    let run = 1;
    while (k + run < count && indices[k + run] === first + run) run++;
    (x as Uint8Array).set((source.x as Uint8Array).subarray(first * sampleSize, (first + run) * sampleSize), k * sampleSize);
    k += run;
  }
  return { x, y, count, sampleSize, sourceIndex };
}

/**
 * A seeded, stratified subset of `count` samples of a split (the whole split when `count` is
 * undefined). `flag` names the option for the error when the split is smaller than asked.
 */
export function subsetSplit(split: DataSplit, numClasses: number, count: number | undefined, rng: Rng, flag: string, shared = false): DataSplit {
  if (count === undefined) return split;
  if (!Number.isInteger(count) || count < 1) {
    throw new UserError(`${flag} must be a whole number ≥ 1, got ${count}.`, { subject: flag });
  }
  if (count > split.count) {
    throw new UserError(
      `${flag} ${count} is larger than the ${split.count} samples available; use at most ${split.count} or leave it out.`,
      { subject: flag },
    );
  }
  if (count === split.count) return split;
  const [chosen] = stratifiedPartition(split.y, numClasses, [count], rng);
  return gatherSplit(split, chosen as Int32Array, shared);
}
