/** Per-objective affine map of loss vectors onto [0, 1] given each objective's min and max. */
export interface MinMaxNormalizer {
  /** Smallest value of each objective. */
  readonly lo: readonly number[];
  /** Largest value of each objective. */
  readonly hi: readonly number[];
  /** The vector mapped to [0, 1] per objective (a zero range maps to 0). */
  apply(losses: readonly number[]): number[];
}

/** Builds a MinMaxNormalizer from the range of `points` (at least one point). */
export function minMaxNormalizer(points: readonly (readonly number[])[]): MinMaxNormalizer {
  const dims = (points[0] ?? []).length;
  const lo = new Array<number>(dims).fill(Number.POSITIVE_INFINITY);
  const hi = new Array<number>(dims).fill(Number.NEGATIVE_INFINITY);
  for (const p of points) {
    for (let d = 0; d < dims; d++) {
      const v = p[d] as number;
      if (v < (lo[d] as number)) lo[d] = v;
      if (v > (hi[d] as number)) hi[d] = v;
    }
  }
  return {
    lo,
    hi,
    apply: (losses) => losses.map((v, d) => {
      const range = (hi[d] as number) - (lo[d] as number);
      return range > 0 ? (v - (lo[d] as number)) / range : 0;
    }),
  };
}
