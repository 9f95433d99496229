import { describe, expect, it } from 'vitest';
import { crowdingDistance, dominates, nonDominatedSort, paretoFrontIndices, paretoRanks } from '../../src/objectives/index.js';

describe('dominance and sorting', () => {
  it('dominates needs no-worse everywhere and better somewhere', () => {
    expect(dominates([1, 2], [2, 2])).toBe(true);
    expect(dominates([1, 2], [1, 2])).toBe(false);
    expect(dominates([1, 3], [2, 2])).toBe(false);
  });

  it('sorts into hand-checked fronts', () => {
    const pts = [
      [1, 5], // 0: front 0
      [2, 2], // 1: front 0
      [3, 3], // 2: dominated by 1 -> front 1
      [5, 1], // 3: front 0
      [4, 4], // 4: dominated by 2 -> front 2
      [2, 2], // 5: equal to 1 -> front 0 too
      [6, 6], // 6: front 3
    ];
    expect(nonDominatedSort(pts)).toEqual([[0, 1, 3, 5], [2], [4], [6]]);
    expect(paretoRanks(pts)).toEqual([0, 0, 1, 0, 2, 0, 3]);
    expect(paretoFrontIndices(pts)).toEqual([0, 1, 3, 5]);
  });

  it('paretoFrontIndices agrees with the first front of the full sort on random 3-D sets', () => {
    let s = 12345;
    const rand = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
    for (let t = 0; t < 20; t++) {
      const pts = Array.from({ length: 60 }, () => [Math.floor(rand() * 8), Math.floor(rand() * 8), Math.floor(rand() * 8)]);
      expect(paretoFrontIndices(pts)).toEqual(nonDominatedSort(pts)[0]);
    }
  });

  it('computes crowding distance by hand', () => {
    const pts = [[0, 4], [1, 2], [2, 1], [4, 0]];
    const d = crowdingDistance(pts, [0, 1, 2, 3]);
    expect(d[0]).toBe(Infinity);
    expect(d[3]).toBe(Infinity);
    // (1,2): (2-0)/4 + (4-1)/4; (2,1): (4-1)/4 + (2-0)/4
    expect(d[1]).toBeCloseTo(1.25, 12);
    expect(d[2]).toBeCloseTo(1.25, 12);
    expect(crowdingDistance(pts, [1, 2])).toEqual([Infinity, Infinity]);
  });
});
