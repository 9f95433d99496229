import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../../src/core/index.js';
import { TrainerPool } from '../../src/trainer/pool.js';
import type { ReferenceTrainTask } from '../../src/trainer/reference-training.js';

// The pool loads the compiled worker (dist/src/trainer/worker.js): `npm test` builds first.
let pool: TrainerPool;
beforeAll(() => { pool = new TrainerPool({ workers: 1 }); });
afterAll(async () => { await pool.close(); });

function tinyTask(overrides: Partial<ReferenceTrainTask> = {}): ReferenceTrainTask {
  const n = 4;
  return {
    model: 'A', backend: 'wasm', batchSize: 2, warmupSteps: 1, steps: 2, seed: 1,
    inputs: Float32Array.from({ length: n * 784 }, (_, i) => (i % 97) / 97),
    labels: Int32Array.from({ length: n }, (_, i) => i % 10),
    ...overrides,
  };
}

describe('TrainerPool', () => {
  it('trains a reference model in a worker on its own wasm backend without leaking tensors', async () => {
    const r = await pool.trainReference(tinyTask());
    expect(r.backend.name).toBe('wasm');
    expect(r.samples).toBe(4);
    expect(r.samplesPerS).toBeGreaterThan(0);
    expect(Number.isFinite(r.finalLoss)).toBe(true);
    expect(r.numTensorsAfter).toBe(r.numTensorsBefore);
  }, 60_000);

  it('a worker error keeps its class, code, subject and message across the boundary', async () => {
    let nativeLoads = true;
    try { await import('@tensorflow/tfjs-node'); } catch { nativeLoads = false; }
    if (!nativeLoads) {
      const err = await pool.trainReference(tinyTask({ backend: 'tfjs-node' })).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UserError);
      expect((err as UserError).code).toBe('E_USER');
      expect((err as UserError).subject).toBe('--backend');
      expect((err as Error).message).toMatch(/--backend tfjs-node is not available here/);
    }
    const bad = await pool.trainReference(tinyTask({ labels: new Int32Array(1) })).catch((e: unknown) => e);
    expect((bad as Error).name).toBe('Error');
    expect((bad as Error).message).toMatch(/needs at least one batch/);
  }, 60_000);
});
