import { describe, expect, it } from 'vitest';
import { UserError, type MetricSpec } from '../../src/core/index.js';
import { buildMnasObjective, buildObjectives, minMaxNormalizer, mnasReward, mnasRewardObjective, toLosses } from '../../src/objectives/index.js';

const specs: MetricSpec[] = [
  { name: 'accuracy', direction: 'maximize', unit: 'fraction', description: '' },
  { name: 'latency.edgegpu', direction: 'minimize', unit: 'ms', description: '' },
  { name: 'energy.edgegpu', direction: 'minimize', unit: 'mJ', description: '' },
];

describe('objective builder', () => {
  it('builds metric objectives with direction, unit and requires', () => {
    const objs = buildObjectives('accuracy, latency.edgegpu', specs);
    expect(objs.map((o) => [o.name, o.direction, o.unit, o.requires])).toEqual([
      ['accuracy', 'maximize', 'fraction', ['accuracy']],
      ['latency.edgegpu', 'minimize', 'ms', ['latency.edgegpu']],
    ]);
    expect(toLosses(objs, { accuracy: 0.9, 'latency.edgegpu': 3 })).toEqual([-0.9, 3]);
  });

  it('rejects unknown, duplicate and empty names with the available list', () => {
    expect(() => buildObjectives('accuracy,latency.tpu', specs)).toThrow(UserError);
    expect(() => buildObjectives('accuracy,latency.tpu', specs)).toThrow(/unknown metric 'latency.tpu'.*latency\.edgegpu \(min, ms\).*energy\.edgegpu/);
    expect(() => buildObjectives('accuracy,accuracy', specs)).toThrow(/listed twice/);
    expect(() => buildObjectives('accuracy,', specs)).toThrow(/empty name/);
    try {
      buildObjectives('x', specs);
    } catch (err) {
      expect((err as UserError).subject).toBe('--objectives');
    }
  });

  it('computes the MnasNet reward by hand', () => {
    // 2^-0.07 = exp(-0.07 ln 2) = 0.9526380
    expect(mnasReward(0.8, 10, 5)).toBeCloseTo(0.8 * 0.952638, 6);
    // 0.5^-0.07 = 1.0497166
    expect(mnasReward(0.8, 2.5, 5)).toBeCloseTo(0.8 * 1.0497166, 6);
    // Hard constraint (alpha 0, beta -1): under target = accuracy; over = accuracy * T / LAT.
    expect(mnasReward(0.8, 4, 5, 0, -1)).toBe(0.8);
    expect(mnasReward(0.8, 10, 5, 0, -1)).toBeCloseTo(0.4, 12);
    const o = mnasRewardObjective({ accuracyMetric: 'accuracy', latencyMetric: 'latency.edgegpu', targetLatencyMs: 5 });
    expect(o).toMatchObject({ name: 'mnas_reward', direction: 'maximize', requires: ['accuracy', 'latency.edgegpu'] });
    expect(o.value({ accuracy: 0.8, 'latency.edgegpu': 5 })).toBeCloseTo(0.8, 12);
  });

  it('validates the MnasNet settings', () => {
    expect(() => mnasRewardObjective({ accuracyMetric: 'accuracy', latencyMetric: 'latency.edgegpu', targetLatencyMs: 0 })).toThrow(/--latency-target/);
    expect(() => buildMnasObjective(specs, { accuracyMetric: 'accuracy', latencyMetric: 'energy.edgegpu', targetLatencyMs: 5 })).toThrow(/not a latency metric.*latency\.edgegpu/);
    expect(buildMnasObjective(specs, { accuracyMetric: 'accuracy', latencyMetric: 'latency.edgegpu', targetLatencyMs: 5 }).name).toBe('mnas_reward');
  });

  it('normalises min-max per objective', () => {
    const n = minMaxNormalizer([[0, 10], [2, 30], [1, 10]]);
    expect(n.apply([1, 20])).toEqual([0.5, 0.5]);
    expect(minMaxNormalizer([[3, 1], [3, 2]]).apply([3, 2])).toEqual([0, 1]);
  });
});
