import { describe, expect, it } from 'vitest';
import { strategies } from '../../src/controller/strategies/index.js';
import { toLosses } from '../../src/objectives/index.js';
import { nasbench201Records } from '../../search-spaces/nasbench201/index.js';
import { comboTruth, hypervolumeRegret, median, regretAfter, runStrategy } from '../../bench/search-quality-loop.js';

const combo = { dataset: 'imagenet16-120', objectives: 'accuracy,latency.raspi4' };

describe('search-quality bench pieces', () => {
  const truth = comboTruth(combo);

  it('regret is 0 for the whole table, 1 for nothing, in between for a subset', () => {
    const all = nasbench201Records(combo.dataset).map((r) => toLosses(truth.objectives, r.metrics));
    expect(truth.valid).toBe(15625);
    expect(hypervolumeRegret(truth, all)).toBeCloseTo(0, 12);
    expect(hypervolumeRegret(truth, [])).toBe(1);
    const some = hypervolumeRegret(truth, all.slice(0, 200));
    expect(some).toBeGreaterThan(0);
    expect(some).toBeLessThan(1);
  });

  it('the loop evaluates distinct architectures and counts failed ones', () => {
    const edgegpu = { dataset: 'cifar10', objectives: 'accuracy,latency.edgegpu' };
    const t = comboTruth(edgegpu);
    const random = strategies.find((s) => s.name === 'random')!;
    const trials = runStrategy(random, edgegpu, t.objectives, 4, 80);
    expect(trials).toHaveLength(80);
    expect(new Set(trials.map((x) => x.key)).size).toBe(80);
    // About a fifth of the table has no edgegpu value; those trials fail but still use the budget.
    expect(trials.some((x) => x.losses === undefined)).toBe(true);
    expect(regretAfter(t, trials, 40)).toBeGreaterThanOrEqual(regretAfter(t, trials, 80));
  });

  it('median of odd and even lists', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
  });
});
