import { describe, expect, it } from 'vitest';
import type { MetricValue } from '../../src/core/index.js';
import { extrapolateByMacs, extrapolateBySteps } from '../../src/cli/compare-baselines.js';
import type { TrialRecord } from '../../src/store/index.js';

const measured: MetricValue[] = [
  { name: 'params', value: 100, unit: 'count', source: 'computed' },
  { name: 'latency.cpu', value: 5, unit: 'ms', source: 'measured' },
  { name: 'accuracy', value: 0.2, unit: 'fraction', source: 'measured' },
  { name: 'accuracy.val', value: 0.1, unit: 'fraction', source: 'measured' },
  { name: 'energy.train', value: 30, unit: 'J', source: 'counter' },
  { name: 'train.seconds', value: 6, unit: 's', source: 'measured' },
  { name: 'energy.infer', value: 0.5, unit: 'J', source: 'counter' },
];

describe('full-size baseline extrapolation', () => {
  it('scales training energy and time per step to the planned steps, marks them estimated, and drops the partial accuracy', () => {
    const out = extrapolateBySteps(measured, 3, 300);
    const by = Object.fromEntries(out.map((m) => [m.name, m]));
    expect(by['energy.train']).toMatchObject({ value: 3000, source: 'estimated', detail: { extrapolated: true, method: 'per-step', measuredSteps: 3, plannedSteps: 300, measuredValue: 30, measuredSource: 'counter' } });
    expect(by['train.seconds']).toMatchObject({ value: 600, source: 'estimated' });
    expect(by['accuracy']).toBeUndefined();
    expect(by['accuracy.val']).toBeUndefined();
    // Measured on the full-size model itself: kept as measured.
    expect(by['latency.cpu']).toEqual(measured[1]);
    expect(by['energy.infer']).toEqual(measured[6]);
  });

  it('scales a proxy-scale trial by the multiply-adds ratio and keeps the exact counts of the full model', () => {
    const proxy = { id: 9, metrics: [...measured, { name: 'macs', value: 1e6, unit: 'count', source: 'computed' }] } as unknown as TrialRecord;
    const out = extrapolateByMacs(proxy, { params: 3e6, macs: 4e6 }, 188, '--full-steps 0');
    const by = Object.fromEntries(out.map((m) => [m.name, m]));
    expect(by['params']).toMatchObject({ value: 3e6, source: 'computed' });
    expect(by['macs']).toMatchObject({ value: 4e6, source: 'computed' });
    expect(by['energy.train']).toMatchObject({ value: 120, source: 'estimated', detail: { method: 'macs-ratio', fromTrialId: 9, ratio: 4, plannedSteps: 188 } });
    expect(by['energy.infer']).toMatchObject({ value: 2, source: 'estimated' });
    expect(by['train.seconds']?.value).toBe(24);
    expect(by['accuracy']).toBeUndefined();
    expect(by['latency.cpu']).toBeUndefined();
  });
});
