import { describe, expect, it } from 'vitest';
import { hypervolume, hypervolumeImprovement } from '../../src/objectives/index.js';

/** Exact volume on an integer grid: counts unit cells dominated by some point (points and ref integer). */
function gridVolume(points: number[][], ref: number[]): number {
  const d = ref.length;
  let count = 0;
  const cell = new Array<number>(d).fill(0);
  const walk = (k: number): void => {
    if (k === d) {
      if (points.some((p) => p.every((v, i) => v <= (cell[i] as number)))) count++;
      return;
    }
    for (let c = 0; c < (ref[k] as number); c++) {
      cell[k] = c;
      walk(k + 1);
    }
  };
  walk(0);
  return count;
}

describe('hypervolume', () => {
  it('2-D staircase by hand', () => {
    // Strips: x 1..2 height 1, x 2..3 height 2, x 3..4 height 3.
    expect(hypervolume([[1, 3], [2, 2], [3, 1]], [4, 4])).toBeCloseTo(6, 12);
    // A dominated point, a duplicate, and one outside the reference change nothing.
    expect(hypervolume([[1, 3], [2, 2], [3, 1], [3, 3], [2, 2], [5, 0]], [4, 4])).toBeCloseTo(6, 12);
    expect(hypervolume([], [1, 1])).toBe(0);
    expect(hypervolume([[2], [0.5]], [3])).toBe(2.5);
  });

  it('3-D by inclusion-exclusion', () => {
    expect(hypervolume([[0, 0, 0]], [1, 1, 1])).toBeCloseTo(1, 12);
    // 4 + 2 - 1
    expect(hypervolume([[1, 1, 2], [2, 2, 1]], [3, 3, 3])).toBeCloseTo(5, 12);
    // three boxes of 6, pairwise overlaps 2, triple overlap 1: 18 - 6 + 1
    expect(hypervolume([[1, 2, 3], [2, 3, 1], [3, 1, 2]], [4, 4, 4])).toBeCloseTo(13, 12);
    // Fractional coordinates: box (0.5, 0.25, 0.1) to (1, 1, 1)
    expect(hypervolume([[0.5, 0.25, 0.1]], [1, 1, 1])).toBeCloseTo(0.5 * 0.75 * 0.9, 12);
  });

  it('matches exact grid counting on random 2-, 3- and 4-D sets', () => {
    let s = 99;
    const rand = (n: number) => Math.floor(((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) * n);
    for (const d of [2, 3, 4]) {
      for (let t = 0; t < 15; t++) {
        const ref = new Array<number>(d).fill(7);
        const pts = Array.from({ length: 1 + rand(12) }, () => Array.from({ length: d }, () => rand(8)));
        expect(hypervolume(pts, ref)).toBeCloseTo(gridVolume(pts, ref), 9);
      }
    }
  });

  it('improvement is zero for dominated points and exact otherwise', () => {
    const set = [[1, 3], [3, 1]];
    expect(hypervolumeImprovement(set, [3, 3], [4, 4])).toBe(0);
    // (2,2) adds the unit square [2,3]x[2,3]
    expect(hypervolumeImprovement(set, [2, 2], [4, 4])).toBeCloseTo(1, 12);
    // A precomputed base volume (5 here) gives the same improvement.
    expect(hypervolumeImprovement(set, [2, 2], [4, 4], hypervolume(set, [4, 4]))).toBe(hypervolumeImprovement(set, [2, 2], [4, 4]));
    expect(hypervolume(set, [4, 4])).toBeCloseTo(5, 12);
  });
});
