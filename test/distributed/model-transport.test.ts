import { describe, expect, it } from 'vitest';
import { VERSION, type ModelArtifact } from '../../src/core/index.js';
import { runStudy } from '../../src/controller/study.js';
import { randomStrategy } from '../../src/controller/strategies/index.js';
import type { Objective } from '../../src/objectives/index.js';
import { TableEvaluator, type Evaluator } from '../../src/space/index.js';
import { PgRunStore } from '../../src/store/index.js';
import { decodeModel, DEFAULT_DISTRIBUTED, encodeModel, QueueEvaluator, runWorker } from '../../src/distributed/index.js';
import { createGridSpace, type GridArch } from '../fixtures/spaces/grid-space.js';
import { freshPgDatabase, testPgUrl } from '../helpers/postgres.js';

/** A model whose bytes depend on the trial, so a mix-up between trials shows. */
function modelFor(seq: number): ModelArtifact {
  return { format: 'tfjs-layers', topology: { class_name: 'Model', config: { seq } }, weightSpecs: [{ name: 'w', shape: [64], dtype: 'float32' }], weightData: new Uint8Array(256).map((_, i) => (i * 13 + seq * 7) % 256) };
}

describe('model transport through the job queue', () => {
  it('survives JSON (the job output) byte for byte, also from a view into a larger buffer', () => {
    const bytes = new Uint8Array(300).map((_, i) => (i * 91 + 7) % 256);
    const view = new Uint8Array(new Uint8Array([1, 2, ...bytes, 3]).buffer, 2, bytes.length);
    const artifact = { format: 'tfjs-layers' as const, topology: { class_name: 'Model', config: { layers: [] } }, weightSpecs: [{ name: 'w', shape: [300], dtype: 'uint8' }], weightData: view };
    const back = decodeModel(JSON.parse(JSON.stringify(encodeModel(artifact))));
    expect(back.topology).toEqual(artifact.topology);
    expect(back.weightSpecs).toEqual(artifact.weightSpecs);
    expect(Array.from(back.weightData)).toEqual(Array.from(bytes));
  });

  it.runIf(testPgUrl)('stores the model a remote worker trained with its trial (PostgreSQL), and none for failed trials', async () => {
    const { url, drop } = await freshPgDatabase('gn_models');
    const space = createGridSpace();
    const objectives: Objective[] = [
      { name: 'accuracy', direction: 'maximize', unit: 'fraction', requires: ['accuracy'], value: (m) => m.accuracy as number },
      { name: 'latency.toy', direction: 'minimize', unit: 'ms', requires: ['latency.toy'], value: (m) => m['latency.toy'] as number },
    ];
    const store = await PgRunStore.open(url);
    const workerStore = await PgRunStore.open(url);
    const abort = new AbortController();
    let worker: Promise<unknown> | undefined;
    try {
      const run = await store.createRun({ space: 'grid', spaceVersion: '1', dataset: 'toy', strategy: 'random', seed: 4, budget: 40, objectives: ['accuracy', 'latency.toy'],
        settings: { distributed: DEFAULT_DISTRIBUTED }, versions: { greennas: VERSION }, backend: 'table', host: 'h' });
      const table = new TableEvaluator(space, 'toy');
      // The worker side: evaluates like a trainer would, returning the trained model with the metrics.
      const trainer: Evaluator<GridArch> = {
        backend: 'table', concurrency: 1, metrics: () => table.metrics(), close: async () => {},
        evaluate: async (arch, info) => ({ ...(await table.evaluate(arch, info)), model: modelFor(info.seq) }),
      };
      worker = runWorker({ store: workerStore, url, runId: run.id, slots: 2, heartbeatS: 1, pollMs: 20, signal: abort.signal, evaluatorForRun: async () => trainer as Evaluator });
      const qe = await QueueEvaluator.open({ store, url, runId: run.id, local: table as Evaluator, settings: { ...DEFAULT_DISTRIBUTED, queueDepth: 2 }, pollMs: 20 });
      try {
        await runStudy({ store, runId: run.id, space, evaluator: qe as unknown as Evaluator<GridArch>, strategy: randomStrategy, seed: 4, objectives, budget: 40 });
      } finally {
        await qe.close();
      }
      const trials = await store.listTrials(run.id);
      const complete = trials.filter((t) => t.state === 'complete');
      expect(complete.length).toBeGreaterThan(0);
      expect(trials.some((t) => t.state === 'failed')).toBe(true);
      for (const t of trials) {
        const stored = await store.getModel(t.id);
        if (t.state === 'complete') expect(stored).toEqual(modelFor(t.seq));
        else expect(stored).toBeUndefined();
      }
    } finally {
      abort.abort();
      await worker?.catch(() => {});
      await workerStore.close();
      await store.close();
      await drop();
    }
  }, 120_000);
});
