/** True when loss vector a Pareto-dominates b (no worse everywhere, strictly better somewhere). */
export function dominates(a: readonly number[], b: readonly number[]): boolean {
  let strictly = false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    if (x > y) return false;
    if (x < y) strictly = true;
  }
  return strictly;
}

function lexCompare(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < a.length; i++) {
    const d = (a[i] as number) - (b[i] as number);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * Indices of the non-dominated points (losses, smaller is better), in input order. Equal points are
 * all kept. O(N·F) after a sort, so it handles a whole 15,625-row table quickly.
 */
export function paretoFrontIndices(points: readonly (readonly number[])[]): number[] {
  const order = points.map((_, i) => i).sort((i, j) => lexCompare(points[i] as number[], points[j] as number[]) || i - j);
  // In lexicographic order only an earlier point can dominate a later one.
  const kept: number[] = [];
  for (const i of order) {
    const p = points[i] as number[];
    if (!kept.some((k) => dominates(points[k] as number[], p))) kept.push(i);
  }
  return kept.sort((a, b) => a - b);
}

/**
 * Fast non-dominated sorting (Deb et al. 2002): fronts of indices, best first. O(M·N²), meant for the
 * few hundred trials of a run.
 */
export function nonDominatedSort(points: readonly (readonly number[])[]): number[][] {
  const n = points.length;
  const dominatedBy = new Int32Array(n);
  const dominating: number[][] = points.map(() => []);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const a = points[i] as number[];
      const b = points[j] as number[];
      if (dominates(a, b)) {
        (dominating[i] as number[]).push(j);
        dominatedBy[j]!++;
      } else if (dominates(b, a)) {
        (dominating[j] as number[]).push(i);
        dominatedBy[i]!++;
      }
    }
  }
  const fronts: number[][] = [];
  let current: number[] = [];
  for (let i = 0; i < n; i++) if (dominatedBy[i] === 0) current.push(i);
  while (current.length > 0) {
    fronts.push(current);
    const next: number[] = [];
    for (const i of current) {
      for (const j of dominating[i] as number[]) {
        if (--dominatedBy[j]! === 0) next.push(j);
      }
    }
    current = next.sort((a, b) => a - b);
  }
  return fronts;
}

/** Pareto rank of every point (0 = non-dominated), from nonDominatedSort. */
export function paretoRanks(points: readonly (readonly number[])[]): number[] {
  const ranks = new Array<number>(points.length).fill(0);
  nonDominatedSort(points).forEach((front, r) => {
    for (const i of front) ranks[i] = r;
  });
  return ranks;
}

/**
 * NSGA-II crowding distance of the points listed in `front` (indices into `points`), returned in the
 * same order as `front`. Boundary points get Infinity; objectives with zero range add nothing.
 */
export function crowdingDistance(points: readonly (readonly number[])[], front: readonly number[]): number[] {
  const m = front.length;
  const distance = new Array<number>(m).fill(0);
  if (m === 0) return distance;
  const dims = (points[front[0] as number] as number[]).length;
  for (let d = 0; d < dims; d++) {
    const order = front.map((_, k) => k).sort((a, b) => ((points[front[a] as number] as number[])[d] as number) - ((points[front[b] as number] as number[])[d] as number) || a - b);
    const value = (k: number): number => (points[front[order[k] as number] as number] as number[])[d] as number;
    const range = value(m - 1) - value(0);
    distance[order[0] as number] = Number.POSITIVE_INFINITY;
    distance[order[m - 1] as number] = Number.POSITIVE_INFINITY;
    if (range <= 0) continue;
    for (let k = 1; k < m - 1; k++) distance[order[k] as number]! += (value(k + 1) - value(k - 1)) / range;
  }
  return distance;
}
