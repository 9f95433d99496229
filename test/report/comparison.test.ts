import { describe, expect, it } from 'vitest';
import { buildComparison, comparisonCsv, comparisonNotes, comparisonTable, deltaTable, renderMarkdown, type CarbonBasis } from '../../src/report/index.js';
import { fakeRun, fakeTrial } from './fixtures.js';

const carbon: CarbonBasis = { intensityGPerKwh: 400, pue: 1.5, source: 'test grid' };
const label = (t: { arch: unknown }) => JSON.stringify(t.arch);

describe('comparison', () => {
  const front = fakeTrial({ accuracy: 0.9, params: 1000, macs: 2e6, 'energy.train': 3.6e6, 'train.seconds': 100, 'energy.infer': 0.002, 'latency.cpu': 2 }, { arch: 'searched' });
  const dominated = fakeTrial({ accuracy: 0.5, params: 5000, macs: 9e6, 'energy.train': 7.2e6, 'train.seconds': 300 }, { arch: 'dominated' });
  const older = fakeTrial({ accuracy: 0.1, params: 4000, macs: 1e6, 'energy.train': 1 }, { kind: 'baseline', arch: { model: 'resnet50', width: 0.25, depth: 0.25 } });
  const baseline = fakeTrial({ accuracy: 0.8, params: 4000, macs: 1e6, 'energy.train': 7.2e6, 'train.seconds': 50, 'energy.infer': 0.004 }, { kind: 'baseline', arch: { model: 'resnet50', width: 0.25, depth: 0.25 } });
  const extrapolated = fakeTrial({ params: 25e6, macs: 4e9, 'energy.train': 36e6, 'train.seconds': 900 }, {
    kind: 'baseline', arch: { model: 'resnet50', width: 1, depth: 1 }, energySource: 'estimated',
    detail: { extrapolated: true, method: 'per-step', measuredSteps: 3, plannedSteps: 188 },
  });
  const compressed = fakeTrial({ accuracy: 0.88, params: 250, macs: 2e6, 'energy.train': 3.6e6 }, { kind: 'compressed', arch: 'searched-int8' });
  const failed = fakeTrial({}, { state: 'failed', kind: 'baseline', arch: { model: 'mobilenetv2', width: 1, depth: 1 } });
  // `older` was trained first; `baseline` is the retrained one (higher id) and replaces it.
  const trials = [front, dominated, older, baseline, extrapolated, compressed, failed].sort((a, b) => a.id - b.id);
  const c = buildComparison({ run: fakeRun(), trials, frontIds: [front.id], carbon, label });

  it('puts the front, then compressed models, then the latest complete trial of each baseline architecture', () => {
    expect(c.rows.map((r) => [r.role, r.trialId])).toEqual([
      ['front', front.id], ['compressed', compressed.id], ['baseline', baseline.id], ['baseline', extrapolated.id],
    ]);
    expect(c.rows.some((r) => r.trialId === dominated.id || r.trialId === older.id || r.trialId === failed.id)).toBe(false);
  });

  it('derives kWh, carbon and joules per accuracy point', () => {
    const r = c.rows[0]!;
    expect(r.trainEnergyKwh).toBeCloseTo(1, 12);
    expect(r.carbonG).toBeCloseTo(1 * 1.5 * 400, 9);
    expect(r.energyPerPointJ).toBeCloseTo(3.6e6 / 90, 6);
  });

  it('gives the change against every baseline in % and accuracy in points', () => {
    const d = c.deltas.find((x) => x.trialId === front.id && x.baselineTrialId === baseline.id)!;
    expect(d.paramsPct).toBeCloseTo(-75, 9);
    expect(d.macsPct).toBeCloseTo(100, 9);
    expect(d.trainEnergyPct).toBeCloseTo(-50, 9);
    expect(d.inferEnergyPct).toBeCloseTo(-50, 9);
    expect(d.accuracyPoints).toBeCloseTo(10, 9);
    const vsFull = c.deltas.find((x) => x.trialId === front.id && x.baselineTrialId === extrapolated.id)!;
    expect(vsFull.accuracyPoints).toBeUndefined();
    expect(vsFull.trainEnergyPct).toBeCloseTo(-90, 9);
    expect(c.deltas).toHaveLength(2 * 2);
  });

  it('marks extrapolated and estimated figures and explains them', () => {
    const t = comparisonTable(c);
    const full = t.rows.find((r) => r[2] === String(extrapolated.id))!;
    expect(full[5]).toMatch(/\*~$/);
    expect(full[9]).toBe('n/a*');
    const notes = comparisonNotes(c).join('\n');
    expect(notes).toMatch(/trained for 3 steps.*188 steps/);
    expect(notes).toMatch(/estimated from CPU time/);
    expect(deltaTable(c).rows[0]![7]).toBe('+10.0 pts');
  });

  it('marks an estimated inference energy, and not a counter reading', () => {
    const estimated = fakeTrial({ accuracy: 0.9, 'energy.train': 3.6e6, 'energy.infer': 0.002 }, { arch: 'estimated', energySource: 'estimated' });
    const e = buildComparison({ run: fakeRun(), trials: [front, estimated], frontIds: [front.id, estimated.id], carbon, label });
    const rows = comparisonTable(e).rows;
    expect(rows.find((r) => r[2] === String(estimated.id))![7]).toBe('2~');
    expect(rows.find((r) => r[2] === String(front.id))![7]).toBe('2');
    expect(comparisonNotes(e).join('\n')).toMatch(/estimated from CPU time/);
    expect(comparisonCsv(e).split('\r\n')[0]).toContain('infer_energy_j,infer_energy_source');
  });

  it('escapes Markdown and quotes CSV cells', () => {
    const nasty = buildComparison({ run: fakeRun(), trials: [front], frontIds: [front.id], carbon, label: () => 'a|b <img src=x>, "q"' });
    expect(renderMarkdown(comparisonTable(nasty))).toContain('a\\|b &lt;img src=x&gt;, "q"');
    expect(comparisonCsv(nasty).split('\r\n')[1]).toContain('"a|b <img src=x>, ""q"""');
  });
});
