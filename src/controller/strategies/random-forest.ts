import type { Rng } from '../../core/index.js';

interface TreeNode {
  /** Leaf: mean and variance of the targets that reached it. */
  mean: number;
  variance: number;
  /** Split: decision index and the choice that goes left; absent on leaves. */
  decision?: number;
  choice?: number;
  left?: TreeNode;
  right?: TreeNode;
}

/** Settings of the forest. */
export interface RandomForestOptions {
  /** Trees (default 24). */
  trees?: number;
  /** Smallest number of samples in a leaf (default 2). */
  minLeaf?: number;
  /** Fraction of the (decision, choice) splits tried at each node (default 0.6). */
  splitFraction?: number;
}

/**
 * A regression forest over categorical vectors (SMAC-style): bootstrapped trees whose splits send one
 * choice of one decision left and the rest right, chosen by variance reduction among a random subset.
 * Trees capture interactions a stationary kernel misses (e.g. "when these edges are empty the others
 * do not matter"). The prediction's spread combines the spread across trees and within leaves.
 */
export class CategoricalRandomForest {
  private roots: TreeNode[] = [];
  private readonly trees: number;
  private readonly minLeaf: number;
  private readonly splitFraction: number;

  constructor(
    private readonly cardinalities: readonly number[],
    options: RandomForestOptions = {},
  ) {
    this.trees = options.trees ?? 24;
    this.minLeaf = options.minLeaf ?? 2;
    this.splitFraction = options.splitFraction ?? 0.6;
  }

  /** Fits the forest to choice vectors `x` and targets `y`, drawing bootstraps and splits from `rng`. */
  fit(x: readonly (readonly number[])[], y: readonly number[], rng: Rng): void {
    const n = y.length;
    this.roots = [];
    for (let t = 0; t < this.trees; t++) {
      const idx = Array.from({ length: n }, () => rng.int(n));
      this.roots.push(this.grow(x, y, idx, rng));
    }
  }

  private grow(x: readonly (readonly number[])[], y: readonly number[], idx: number[], rng: Rng): TreeNode {
    let sum = 0;
    let sq = 0;
    for (const i of idx) {
      sum += y[i] as number;
      sq += (y[i] as number) ** 2;
    }
    const n = idx.length;
    const mean = sum / n;
    const variance = Math.max(sq / n - mean * mean, 0);
    const node: TreeNode = { mean, variance };
    if (n < 2 * this.minLeaf || variance < 1e-14) return node;
    let bestGain = 1e-12;
    let bestD = -1;
    let bestC = -1;
    for (let d = 0; d < this.cardinalities.length; d++) {
      const k = this.cardinalities[d] as number;
      const cSum = new Float64Array(k);
      const cCount = new Int32Array(k);
      for (const i of idx) {
        const c = (x[i] as number[])[d] as number;
        cSum[c]! += y[i] as number;
        cCount[c]!++;
      }
      for (let c = 0; c < k; c++) {
        if (rng.next() > this.splitFraction) continue;
        const nl = cCount[c] as number;
        const nr = n - nl;
        if (nl < this.minLeaf || nr < this.minLeaf) continue;
        const sl = cSum[c] as number;
        const sr = sum - sl;
        // Variance reduction ∝ between-group sum of squares.
        const gain = (sl * sl) / nl + (sr * sr) / nr - (sum * sum) / n;
        if (gain > bestGain) {
          bestGain = gain;
          bestD = d;
          bestC = c;
        }
      }
    }
    if (bestD < 0) return node;
    const left: number[] = [];
    const right: number[] = [];
    for (const i of idx) ((x[i] as number[])[bestD] === bestC ? left : right).push(i);
    node.decision = bestD;
    node.choice = bestC;
    node.left = this.grow(x, y, left, rng);
    node.right = this.grow(x, y, right, rng);
    return node;
  }

  /** Mean over trees and total standard deviation (across trees plus within leaves) at x. */
  predict(x: readonly number[]): { mean: number; std: number } {
    let sum = 0;
    let sq = 0;
    let within = 0;
    for (const root of this.roots) {
      let node = root;
      while (node.left && node.right) node = x[node.decision as number] === node.choice ? node.left : node.right;
      sum += node.mean;
      sq += node.mean * node.mean;
      within += node.variance;
    }
    const t = this.roots.length;
    const mean = sum / t;
    return { mean, std: Math.sqrt(Math.max(sq / t - mean * mean, 0) + within / t) };
  }

  /** Mean over trees at x. */
  predictMean(x: readonly number[]): number {
    return this.predict(x).mean;
  }
}
