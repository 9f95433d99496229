import { GreennasError } from '../core/index.js';

/** Points (losses, smaller is better) that strictly dominate the reference point; others add no volume. */
function insideReference(points: readonly (readonly number[])[], ref: readonly number[]): number[][] {
  const out: number[][] = [];
  for (const p of points) {
    if (p.length !== ref.length) throw new GreennasError(`hypervolume: point has ${p.length} objectives, reference point ${ref.length}`, 'E_OBJECTIVE');
    let inside = true;
    for (let i = 0; i < p.length; i++) if (!((p[i] as number) < (ref[i] as number))) inside = false;
    if (inside) out.push([...p]);
  }
  return out;
}

/**
 * 2-D staircase (x ascending, y strictly descending) whose dominated area, bounded by the reference
 * point, is kept up to date as points are inserted: the building block of the 3-D sweep.
 */
class Staircase2D {
  private readonly xs: number[] = [];
  private readonly ys: number[] = [];
  /** Area dominated by the points inserted so far. */
  area = 0;

  constructor(
    private readonly refX: number,
    private readonly refY: number,
  ) {}

  /** Inserts (x, y); returns the area it adds (0 when it is weakly dominated). */
  insert(x: number, y: number): number {
    const xs = this.xs;
    const ys = this.ys;
    let lo = 0;
    let hi = xs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((xs[mid] as number) < x) lo = mid + 1;
      else hi = mid;
    }
    const i = lo; // first point with xs >= x
    let ceilY = i > 0 ? (ys[i - 1] as number) : this.refY;
    if (ceilY <= y) return 0;
    if (i < xs.length && xs[i] === x && (ys[i] as number) <= y) return 0;
    let added = 0;
    let cx = x;
    let j = i;
    while (j < xs.length && (ys[j] as number) >= y) {
      added += ((xs[j] as number) - cx) * (ceilY - y);
      ceilY = ys[j] as number;
      cx = xs[j] as number;
      j++;
    }
    added += ((j < xs.length ? (xs[j] as number) : this.refX) - cx) * (ceilY - y);
    xs.splice(i, j - i, x);
    ys.splice(i, j - i, y);
    this.area += added;
    return added;
  }
}

function hypervolume2D(points: number[][], ref: readonly number[]): number {
  const s = new Staircase2D(ref[0] as number, ref[1] as number);
  for (const p of points) s.insert(p[0] as number, p[1] as number);
  return s.area;
}

/** Dimension sweep over z with an incrementally maintained 2-D staircase (HV3D-style, O(n²) worst case). */
function hypervolume3D(points: number[][], ref: readonly number[]): number {
  points.sort((a, b) => (a[2] as number) - (b[2] as number));
  const s = new Staircase2D(ref[0] as number, ref[1] as number);
  let volume = 0;
  for (let k = 0; k < points.length; k++) {
    const p = points[k] as number[];
    s.insert(p[0] as number, p[1] as number);
    const nextZ = k + 1 < points.length ? ((points[k + 1] as number[])[2] as number) : (ref[2] as number);
    volume += s.area * (nextZ - (p[2] as number));
  }
  return volume;
}

/** Slices along the last objective and recurses (exact; exponential, for the rare > 3 objectives). */
function hypervolumeSlicing(points: number[][], ref: readonly number[]): number {
  const d = ref.length;
  if (d === 3) return hypervolume3D(points, ref);
  points.sort((a, b) => (a[d - 1] as number) - (b[d - 1] as number));
  const subRef = ref.slice(0, d - 1);
  let volume = 0;
  for (let k = 0; k < points.length; k++) {
    const nextZ = k + 1 < points.length ? ((points[k + 1] as number[])[d - 1] as number) : (ref[d - 1] as number);
    const width = nextZ - ((points[k] as number[])[d - 1] as number);
    if (width > 0) volume += width * hypervolumeSlicing(points.slice(0, k + 1).map((p) => p.slice(0, d - 1)), subRef);
  }
  return volume;
}

/**
 * Exact hypervolume of a set of loss vectors (minimisation) with respect to a reference point: the
 * measure of the region dominated by the set and bounded by `ref`. 1-D, 2-D and 3-D are O(n log n) /
 * O(n²) sweeps; more objectives fall back to exact slicing.
 */
export function hypervolume(points: readonly (readonly number[])[], ref: readonly number[]): number {
  const inside = insideReference(points, ref);
  if (inside.length === 0) return 0;
  switch (ref.length) {
    case 0:
      throw new GreennasError('hypervolume needs at least one objective', 'E_OBJECTIVE');
    case 1:
      return (ref[0] as number) - Math.min(...inside.map((p) => p[0] as number));
    case 2:
      return hypervolume2D(inside, ref);
    default:
      return hypervolumeSlicing(inside, ref);
  }
}

/**
 * How much volume `point` adds to `set` (0 when the set already weakly dominates it). `base`, when
 * given, is hypervolume(set, ref), for callers that score many points against one set.
 */
export function hypervolumeImprovement(set: readonly (readonly number[])[], point: readonly number[], ref: readonly number[], base?: number): number {
  for (const s of set) {
    let weak = true;
    for (let i = 0; i < point.length; i++) if ((s[i] as number) > (point[i] as number)) weak = false;
    if (weak) return 0;
  }
  return hypervolume([...set, point], ref) - (base ?? hypervolume(set, ref));
}
