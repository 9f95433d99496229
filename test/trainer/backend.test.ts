import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/core/index.js';
import { BACKEND_NAMES, initBackend } from '../../src/trainer/backend.js';

describe('initBackend', () => {
  it('auto picks the first backend that loads and says why the others did not', async () => {
    const info = await initBackend('auto');
    expect(BACKEND_NAMES).toContain(info.name);
    expect(info.versions['@tensorflow/tfjs']).toBe(tf.version.tfjs);
    if (info.name !== 'tfjs-node-gpu') expect(info.reason).toMatch(/skipped: tfjs-node-gpu: /);
  });

  it('a forced backend that cannot load is a UserError naming --backend and the reason', async () => {
    let nativeLoads = true;
    try { await import('@tensorflow/tfjs-node'); } catch { nativeLoads = false; }
    if (nativeLoads) return; // the bindings are installed here, so there is nothing to refuse
    const err = await initBackend('tfjs-node').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).code).toBe('E_USER');
    expect((err as UserError).subject).toBe('--backend');
    expect((err as Error).message).toMatch(/^--backend tfjs-node is not available here: .+\. Use --backend auto/);
  });

  it('rejects an unknown backend name', async () => {
    await expect(initBackend('tpu' as never)).rejects.toThrow(/--backend tpu is not a backend greennas knows/);
  });

  it('forcing cpu and then wasm switches tfjs to them', async () => {
    expect((await initBackend('cpu')).tfjsBackend).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    const wasm = await initBackend('wasm');
    expect(wasm.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(wasm.versions['@tensorflow/tfjs-backend-wasm']).toBe('4.22.0');
  });
});
