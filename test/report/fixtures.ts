import type { MetricValue } from '../../src/core/index.js';
import type { RunRecord, TrialKind, TrialRecord } from '../../src/store/index.js';

/** A stored run as the store returns it (for building reports without a database). */
export function fakeRun(overrides: Partial<RunRecord> = {}): RunRecord {
  return {
    id: 7, state: 'complete', createdAt: '2026-11-29T10:00:00.000Z', updatedAt: '2026-11-29T10:30:00.000Z',
    space: 'mobilenet', spaceVersion: '1.0.0', dataset: 'fashion-mnist', strategy: 'nsga2', seed: 1, budget: 4,
    objectives: ['accuracy.val', 'latency.cpu', 'energy.train'], settings: { trials: 4, proxy: { epochs: 2 } },
    versions: { greennas: '0.1.0' }, backend: 'wasm', host: 'box', ...overrides,
  };
}

let nextId = 1;

/** A complete trial with the proxy metrics given as name → value (energy in J, source `counter` unless told). */
export function fakeTrial(values: Record<string, number>, o: { kind?: TrialKind; arch?: unknown; seq?: number; id?: number; energySource?: MetricValue['source']; detail?: Record<string, unknown>; state?: TrialRecord['state'] } = {}): TrialRecord {
  const id = o.id ?? nextId++;
  const units: Record<string, string> = { accuracy: 'fraction', 'accuracy.val': 'fraction', 'latency.cpu': 'ms', 'energy.train': 'J', 'energy.infer': 'J', params: 'count', macs: 'count', 'train.seconds': 's' };
  const metrics: MetricValue[] = Object.entries(values).map(([name, value]) => ({
    name, value, unit: units[name] ?? 'count',
    source: name.startsWith('energy') ? (o.energySource ?? 'counter') : name === 'params' || name === 'macs' ? 'computed' : 'measured',
    ...(name === 'energy.train' && o.detail ? { detail: o.detail } : {}),
  }));
  return {
    id, runId: 7, seq: o.seq ?? id, tellSeq: id, key: `k${id}`, arch: o.arch ?? { n: id }, state: o.state ?? 'complete',
    metrics: o.state === 'failed' ? [] : metrics, startedAt: '2026-11-29T10:00:00.000Z', kind: o.kind ?? 'search',
  };
}
