/**
 * A small exact Gaussian process over categorical vectors. Its kernel mixes an additive part and an
 * exponential weighted-Hamming part:
 * k(x, x') = a·(1/D)·Σ_d [x_d = x'_d] + (1 − a)·exp(−Σ_d θ_d·[x_d ≠ x'_d]).
 * The additive part is Bayesian ridge regression on one-hot choices (latency and energy of a cell
 * are nearly a sum of per-edge costs, so it generalises from few samples); the product part models
 * interactions. Both are positive definite, so their mix is for every a in [0, 1] and θ ≥ 0. The
 * share a, the per-decision weights θ (automatic relevance determination) and the noise come from a
 * grid and coordinate search on the log marginal likelihood; targets are standardised inside.
 * Sized for a few hundred observations: fitting is one Cholesky per tried setting.
 */
export class HammingGaussianProcess {
  private x: Int32Array[] = [];
  private l: Float64Array = new Float64Array(0);
  private alpha: Float64Array = new Float64Array(0);
  private n = 0;
  private mean = 0;
  private scale = 1;
  private table: Float64Array | undefined;
  /** Per-decision inverse length scales θ_d. */
  weights: number[] = [];
  /** Noise variance relative to the standardised signal. */
  noise = 1e-2;
  /** Share a of the additive kernel, in [0, 1). */
  additive = 0;
  /** Additive shares the tuner tries ([0] keeps the plain Hamming kernel). */
  readonly additiveGrid: readonly number[];

  /** `additiveGrid`: shares of the additive kernel to try when tuning (default 0, 0.5, 0.9, 0.99). */
  constructor(options: { additiveGrid?: readonly number[] } = {}) {
    this.additiveGrid = options.additiveGrid ?? [0, 0.5, 0.9, 0.99];
  }

  /** Fits to `x` (choice vectors) and `y`; with `tune`, searches θ and noise first. */
  fit(x: readonly (readonly number[])[], y: readonly number[], tune: boolean): void {
    this.x = x.map((r) => Int32Array.from(r));
    this.n = y.length;
    const dims = x[0]?.length ?? 0;
    if (this.weights.length !== dims) this.weights = new Array<number>(dims).fill(1);
    this.mean = y.reduce((s, v) => s + v, 0) / Math.max(1, y.length);
    const variance = y.reduce((s, v) => s + (v - this.mean) ** 2, 0) / Math.max(1, y.length);
    this.scale = variance > 1e-12 ? Math.sqrt(variance) : 1;
    const z = Float64Array.from(y, (v) => (v - this.mean) / this.scale);
    const masks = this.mismatchMasks(dims);
    if (tune) {
      let best = Number.NEGATIVE_INFINITY;
      let bestW = this.weights;
      let bestNoise = this.noise;
      let bestAdditive = this.additive;
      const tryFit = (w: number[], noise: number, additive: number) => {
        const ll = this.factor(masks, z, w, noise, additive);
        if (ll > best) {
          best = ll;
          bestW = w;
          bestNoise = noise;
          bestAdditive = additive;
        }
      };
      for (const additive of this.additiveGrid) {
        for (const ls of [0.5, 1, 2, 4, 8]) for (const noise of [1e-3, 1e-2, 1e-1, 3e-1]) tryFit(new Array<number>(dims).fill(1 / ls), noise, additive);
      }
      // One coordinate pass: some decisions matter far more than others (ARD).
      for (let d = 0; d < dims; d++) {
        const base = bestW;
        for (const f of [0, 0.2, 0.5, 2, 5]) {
          const w = [...base];
          w[d] = (base[d] as number) * f;
          tryFit(w, bestNoise, bestAdditive);
        }
      }
      this.weights = bestW;
      this.noise = bestNoise;
      this.additive = bestAdditive;
    }
    this.factor(masks, z, this.weights, this.noise, this.additive, true);
  }

  private mismatchMasks(dims: number): Int32Array[] {
    // Row i holds, per j < i, which decisions differ: a bit mask when few enough (table lookups), else a 0/1 list.
    const n = this.n;
    const packed = dims <= MAX_MASK_DIMS;
    const out: Int32Array[] = [];
    for (let i = 0; i < n; i++) {
      const row = new Int32Array(packed ? i : i * dims);
      const xi = this.x[i] as Int32Array;
      for (let j = 0; j < i; j++) {
        const xj = this.x[j] as Int32Array;
        if (packed) row[j] = mismatchMask(xi, xj);
        else {
          for (let d = 0; d < dims; d++) row[j * dims + d] = xi[d] !== xj[d] ? 1 : 0;
        }
      }
      out.push(row);
    }
    return out;
  }

  /**
   * Cholesky of K + noise·I into this.l, alpha = K⁻¹z; returns the log marginal likelihood. With
   * `predicting` (the fit that predictions use) and at most 16 dimensions, also the kernel table
   * for every mismatch mask; the tuner's trial fits compute only the training pairs' values.
   */
  private factor(masks: Int32Array[], z: Float64Array, weights: readonly number[], noise: number, additive: number, predicting = false): number {
    const n = this.n;
    const dims = weights.length;
    const packed = dims <= MAX_MASK_DIMS;
    const table = packed && predicting ? kernelTable(weights, additive) : undefined;
    const l = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      const mi = masks[i] as Int32Array;
      const ri = i * n;
      for (let j = 0; j <= i; j++) {
        let s: number;
        if (i === j) s = 1 + noise;
        else if (table) s = table[mi[j] as number] as number;
        else if (packed) s = maskKernel(mi[j] as number, weights, additive);
        else {
          let dist = 0;
          let mismatches = 0;
          for (let d = 0; d < dims; d++) {
            if (mi[j * dims + d] === 1) {
              dist += weights[d] as number;
              mismatches++;
            }
          }
          s = mixedKernel(dist, mismatches, dims, additive);
        }
        const rj = j * n;
        for (let k = 0; k < j; k++) s -= (l[ri + k] as number) * (l[rj + k] as number);
        if (i === j) l[ri + i] = Math.sqrt(Math.max(s, 1e-12));
        else l[ri + j] = s / (l[rj + j] as number);
      }
    }
    const alpha = solveUpper(l, n, solveLower(l, n, z));
    let logDet = 0;
    let fit = 0;
    for (let i = 0; i < n; i++) {
      logDet += Math.log(l[i * n + i] as number);
      fit += (z[i] as number) * (alpha[i] as number);
    }
    this.l = l;
    this.alpha = alpha;
    this.table = table;
    this.additive = additive;
    return -0.5 * fit - logDet;
  }

  private kStar(x: readonly number[]): Float64Array {
    const k = new Float64Array(this.n);
    const w = this.weights;
    const dims = w.length;
    const table = this.table;
    for (let i = 0; i < this.n; i++) {
      const xi = this.x[i] as Int32Array;
      if (table) k[i] = table[mismatchMask(xi, x)] as number;
      else {
        let dist = 0;
        let mismatches = 0;
        for (let d = 0; d < dims; d++) {
          if (xi[d] !== x[d]) {
            dist += w[d] as number;
            mismatches++;
          }
        }
        k[i] = mixedKernel(dist, mismatches, dims, this.additive);
      }
    }
    return k;
  }

  /**
   * Mismatch masks of x against every training point (mismatchMask), or undefined when the model
   * has more than 16 dimensions. Models fitted on the same inputs can share them (meanFromMasks).
   */
  masksAgainst(x: readonly number[]): Int32Array | undefined {
    if (!this.table) return undefined;
    return Int32Array.from(this.x, (xi) => mismatchMask(xi, x));
  }

  /** True when meanFromMasks() can be used: at most 16 dimensions, kernel values from a table. */
  get takesMasks(): boolean {
    return this.table !== undefined;
  }

  /**
   * Posterior mean from the mismatch masks of a point against the training points in fit order
   * (masksAgainst(), or mismatchMask() per training point), for a model with takesMasks.
   */
  meanFromMasks(masks: ArrayLike<number>): number {
    const table = this.table as Float64Array;
    let m = 0;
    for (let i = 0; i < this.n; i++) m += (table[masks[i] as number] as number) * (this.alpha[i] as number);
    return this.mean + this.scale * m;
  }

  /** Posterior mean at x, in the units of y. */
  predictMean(x: readonly number[]): number {
    const k = this.kStar(x);
    let m = 0;
    for (let i = 0; i < this.n; i++) m += (k[i] as number) * (this.alpha[i] as number);
    return this.mean + this.scale * m;
  }

  /** Posterior mean and standard deviation (of the latent function) at x, in the units of y. */
  predict(x: readonly number[]): { mean: number; std: number } {
    const k = this.kStar(x);
    let m = 0;
    for (let i = 0; i < this.n; i++) m += (k[i] as number) * (this.alpha[i] as number);
    const v = solveLower(this.l, this.n, k);
    let explained = 0;
    for (let i = 0; i < this.n; i++) explained += (v[i] as number) ** 2;
    return { mean: this.mean + this.scale * m, std: this.scale * Math.sqrt(Math.max(1 - explained, 0)) };
  }
}

/** Up to this many dimensions, kernel values come from a table indexed by the mismatch bit mask. */
const MAX_MASK_DIMS = 16;

/** The kernel from the weighted mismatch distance and the mismatch count. */
function mixedKernel(dist: number, mismatches: number, dims: number, additive: number): number {
  return additive * (1 - mismatches / dims) + (1 - additive) * Math.exp(-dist);
}

/** The kernel for one mismatch mask: the value kernelTable() holds for it, summed in the same order. */
export function maskKernel(mask: number, weights: readonly number[], additive: number): number {
  let dist = 0;
  let count = 0;
  for (let m = mask; m !== 0; count++) {
    const high = 31 - Math.clz32(m);
    dist += weights[high] as number;
    m ^= 1 << high;
  }
  return mixedKernel(dist, count, weights.length, additive);
}

/** The kernel for every mismatch mask over the dimensions. */
export function kernelTable(weights: readonly number[], additive: number): Float64Array {
  const dims = weights.length;
  const size = 1 << dims;
  const dist = new Float64Array(size);
  const count = new Uint8Array(size);
  for (let mask = 1; mask < size; mask++) {
    const low = 31 - Math.clz32(mask & -mask);
    dist[mask] = (dist[mask & (mask - 1)] as number) + (weights[low] as number);
    count[mask] = (count[mask & (mask - 1)] as number) + 1;
  }
  return dist.map((v, mask) => mixedKernel(v, count[mask] as number, dims, additive));
}

/** Bit d set where two vectors differ in position d (for at most 16 positions, the models' table index). */
export function mismatchMask(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let mask = 0;
  for (let d = 0; d < a.length; d++) if (a[d] !== b[d]) mask |= 1 << d;
  return mask;
}

/** Number of positions where two choice vectors differ. */
export function hammingDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) d++;
  return d;
}

function solveLower(l: Float64Array, n: number, b: ArrayLike<number>): Float64Array {
  const x = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = b[i] as number;
    const ri = i * n;
    for (let k = 0; k < i; k++) s -= (l[ri + k] as number) * (x[k] as number);
    x[i] = s / (l[ri + i] as number);
  }
  return x;
}

function solveUpper(l: Float64Array, n: number, b: Float64Array): Float64Array {
  // Solves Lᵀ x = b with L stored row-major lower-triangular.
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let s = b[i] as number;
    for (let k = i + 1; k < n; k++) s -= (l[k * n + i] as number) * (x[k] as number);
    x[i] = s / (l[i * n + i] as number);
  }
  return x;
}
