import { describe, expect, it } from 'vitest';
import { GreennasError } from '../../src/core/index.js';
import { runStudy } from '../../src/controller/study.js';
import type { Strategy, StrategyContext, StrategyDefinition } from '../../src/controller/strategy.js';
import type { Objective } from '../../src/objectives/index.js';
import { TableEvaluator } from '../../src/space/index.js';
import { SqliteRunStore, type RunStore } from '../../src/store/index.js';
import { createGridSpace, type GridArch } from '../fixtures/spaces/grid-space.js';

const objectives: Objective[] = [
  { name: 'accuracy', direction: 'maximize', unit: 'fraction', requires: ['accuracy'], value: (m) => m.accuracy as number },
  { name: 'latency.toy', direction: 'minimize', unit: 'ms', requires: ['latency.toy'], value: (m) => m['latency.toy'] as number },
];

/** A history-dependent strategy (mutates the last completed arch), so replay must feed tells exactly. */
const hillClimber: StrategyDefinition = {
  name: 'test-climber',
  description: 'mutates the last complete architecture',
  create: <A,>(ctx: StrategyContext<A>) => climber(ctx as unknown as StrategyContext<GridArch>) as unknown as Strategy<A>,
} as StrategyDefinition;

function climber(ctx: StrategyContext<GridArch>): Strategy<GridArch> {
  let last: GridArch | undefined;
  return {
    name: 'test-climber',
    ask: () => (last && ctx.rng.next() < 0.7 ? ctx.space.mutate(last, ctx.rng) : ctx.space.sample(ctx.rng)),
    tell: (o) => { if (o.state === 'complete') last = o.arch; },
  };
}

async function startRun(store: RunStore, budget: number) {
  return store.createRun({ space: 'grid', spaceVersion: '1', dataset: 'toy', strategy: 'test-climber', seed: 3, budget,
    objectives: objectives.map((o) => o.name), settings: {}, versions: {}, backend: 'table', host: 'h' });
}

function study(store: RunStore, runId: number, budget: number, seed: number) {
  const space = createGridSpace();
  return {
    space,
    options: { store, runId, space, evaluator: new TableEvaluator(space, 'toy'), objectives, budget, strategy: hillClimber, seed },
  };
}

/** A store that dies (like a SIGKILL) just before the n-th trial outcome is written. */
function crashingStore(inner: SqliteRunStore, crashAt: number): RunStore {
  let n = 0;
  return new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === 'finishTrial') {
        return async (...args: Parameters<RunStore['finishTrial']>) => {
          if (n++ === crashAt) throw new Error('simulated crash');
          return target.finishTrial(...args);
        };
      }
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

describe('runStudy', () => {
  it('evaluates the budget with distinct architectures, records failures and keeps a correct front', async () => {
    const store = SqliteRunStore.open(':memory:');
    const run = await startRun(store, 120);
    const { options } = study(store, run.id, 120, 3);
    const result = await runStudy(options);
    const trials = await store.listTrials(run.id);
    expect(trials).toHaveLength(120);
    expect(new Set(trials.map((t) => t.key)).size).toBe(120);
    expect(trials.map((t) => t.seq)).toEqual([...Array(120).keys()]);
    expect(result.failed).toBe(trials.filter((t) => t.state === 'failed').length);
    expect(trials.some((t) => t.state === 'failed' && t.error?.code === 'E_NO_VALUE')).toBe(true);
    // The stored front equals a brute-force non-dominated filter of the complete trials.
    const done = trials.filter((t) => t.state === 'complete').map((t) => {
      const m = Object.fromEntries(t.metrics.map((x) => [x.name, x.value]));
      return { id: t.id, acc: m.accuracy as number, lat: m['latency.toy'] as number };
    });
    const brute = done.filter((p) => !done.some((q) => q.acc >= p.acc && q.lat <= p.lat && (q.acc > p.acc || q.lat < p.lat))).map((p) => p.id).sort((a, b) => a - b);
    expect(await store.getFrontIds(run.id)).toEqual(brute);
    expect(result.frontIds).toEqual(brute);
  });

  it('stops when the space is exhausted instead of evaluating an architecture twice', async () => {
    const store = SqliteRunStore.open(':memory:');
    const run = await startRun(store, 500);
    const { options } = study(store, run.id, 500, 1);
    const result = await runStudy(options);
    expect(result.stoppedEarly).toBe('space-exhausted');
    const trials = await store.listTrials(run.id);
    expect(trials).toHaveLength(216);
    expect(new Set(trials.map((t) => t.key)).size).toBe(216);
  });

  /** A run of `budget` trials (seed 11) finished uninterrupted, and the same run crashed before outcome `crashAt`. */
  async function uninterruptedAndCrashed(budget: number, crashAt: number) {
    const ref = SqliteRunStore.open(':memory:');
    const refRun = await startRun(ref, budget);
    await runStudy(study(ref, refRun.id, budget, 11).options);
    const expected = (await ref.listTrials(refRun.id)).map((t) => [t.key, t.state, t.metrics.map((m) => m.value)]);
    const store = SqliteRunStore.open(':memory:');
    const run = await startRun(store, budget);
    await expect(runStudy(study(crashingStore(store, crashAt), run.id, budget, 11).options)).rejects.toThrow('simulated crash');
    return { ref, refRun, expected, store, run };
  }

  it.each([0, 1, 17, 59])('resumes after a crash before outcome %i with the trials of an uninterrupted run', async (crashAt) => {
    const budget = 60;
    const { ref, refRun, expected, store, run } = await uninterruptedAndCrashed(budget, crashAt);
    const before = await store.listTrials(run.id);
    expect(before.filter((t) => t.state === 'running')).toHaveLength(1);
    const finishedBefore = before.filter((t) => t.state !== 'running').map((t) => t.id);

    const result = await runStudy(study(store, run.id, budget, 11).options);
    expect(result.replayed).toBe(crashAt);
    const after = await store.listTrials(run.id);
    expect(after.map((t) => [t.key, t.state, t.metrics.map((m) => m.value)])).toEqual(expected);
    // Finished trials were kept as they were (same rows), not evaluated again.
    expect(after.filter((t) => finishedBefore.includes(t.id)).map((t) => t.finishedAt)).toEqual(before.filter((t) => finishedBefore.includes(t.id)).map((t) => t.finishedAt));
    const frontKeys = async (s: RunStore, runId: number) => {
      const ids = new Set(await s.getFrontIds(runId));
      return (await s.listTrials(runId)).filter((t) => ids.has(t.id)).map((t) => t.key);
    };
    expect(await frontKeys(store, run.id)).toEqual(await frontKeys(ref, refRun.id));
  });

  it('replays, counts and fronts only search trials: compressed and baseline trials never break resume', async () => {
    const budget = 40;
    const { expected, store, run } = await uninterruptedAndCrashed(budget, 17);
    // Compressed and baseline trials that would dominate everything, added between crash and resume.
    const parent = (await store.listTrials(run.id)).find((t) => t.state === 'complete');
    expect(parent).toBeDefined();
    const best = [{ name: 'accuracy', value: 1, unit: 'fraction', source: 'measured' as const }, { name: 'latency.toy', value: 0, unit: 'ms', source: 'measured' as const }];
    const extra = [
      await store.startTrial(run.id, { key: `${parent?.key}#int8`, arch: parent?.arch, kind: 'compressed', parentTrialId: parent?.id, steps: [{ name: 'quantize', settings: { bits: 8 } }] }),
      await store.startTrial(run.id, { key: 'baseline:x', arch: { baseline: 'x' }, kind: 'baseline' }),
    ];
    for (const [i, t] of extra.entries()) await store.finishTrial(t.id, { state: 'complete', metrics: best, durationMs: 1, tellSeq: 1000 + i });

    const result = await runStudy(study(store, run.id, budget, 11).options);
    expect(result.replayed).toBe(17);
    expect(result.finished).toBe(budget);
    const after = await store.listTrials(run.id);
    expect(after.filter((t) => t.kind === 'search').map((t) => [t.key, t.state, t.metrics.map((m) => m.value)])).toEqual(expected);
    expect(after.filter((t) => t.kind !== 'search').map((t) => t.id)).toEqual(extra.map((t) => t.id).reverse());
    const front = await store.getFrontIds(run.id);
    for (const t of extra) expect(front).not.toContain(t.id);
    expect(front.length).toBeGreaterThan(0);
    expect(result.frontIds).toEqual(front);
  });

  it('stores the model an evaluator returns with its complete trial, and none for failed trials', async () => {
    const store = SqliteRunStore.open(':memory:');
    const run = await startRun(store, 30);
    const { options } = study(store, run.id, 30, 5);
    const table = options.evaluator;
    const evaluator = {
      backend: table.backend, concurrency: 1, metrics: () => table.metrics(), close: () => table.close(),
      // Every evaluation hands back a model (failed ones throw before it reaches the study).
      evaluate: async (arch: GridArch, info: Parameters<typeof table.evaluate>[1]) => {
        const out = await table.evaluate(arch, info);
        return { ...out, model: { format: 'tfjs-layers' as const, topology: { seq: info.seq }, weightSpecs: [], weightData: new Uint8Array([info.seq % 256]) } };
      },
    };
    await runStudy({ ...options, evaluator });
    const trials = await store.listTrials(run.id);
    const complete = trials.filter((t) => t.state === 'complete');
    const failed = trials.filter((t) => t.state === 'failed');
    expect(complete.length).toBeGreaterThan(0);
    expect(failed.length).toBeGreaterThan(0);
    for (const t of complete) expect(await store.getModel(t.id)).toEqual({ format: 'tfjs-layers', topology: { seq: t.seq }, weightSpecs: [], weightData: new Uint8Array([t.seq % 256]) });
    for (const t of failed) expect(await store.getModel(t.id)).toBeUndefined();
  });

  it('refuses to resume when the strategy now proposes something else', async () => {
    const store = SqliteRunStore.open(':memory:');
    const run = await startRun(store, 30);
    await expect(runStudy(study(crashingStore(store, 10), run.id, 30, 11).options)).rejects.toThrow('simulated crash');
    await expect(runStudy(study(store, run.id, 30, 12).options)).rejects.toThrow(GreennasError);
  });
});
