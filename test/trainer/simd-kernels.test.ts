import { execFileSync, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/trainer/backend.js';
import { simdKernels } from '../../src/trainer/simd-kernels.js';
import type { WasmBackend } from '../../src/trainer/wasm-backend-access.js';

const buildScript = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'trainer', 'simd', 'build.sh');
const haveToolchain = ['clang', 'wasm-ld', 'llvm-objdump'].every((tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0);

beforeAll(async () => {
  await initBackend('wasm');
});

// Their numerics are checked against the cpu backend in wasm-kernels.test.ts (batch norm, depthwise filter gradient).
describe('SIMD training kernels', () => {
  it('load on the wasm backend, bound to its heap', () => {
    const simd = simdKernels(tf.findBackend('wasm') as unknown as WasmBackend);
    expect(simd).not.toBeNull();
    expect(typeof simd?.bn_train).toBe('function');
    expect(typeof simd?.dw_filter_grad).toBe('function');
  });

  it.skipIf(!haveToolchain)('the committed module is the build of kernels.c (needs clang, wasm-ld, llvm-objdump)', () => {
    expect(() => execFileSync(buildScript, ['--check'], { stdio: 'pipe' })).not.toThrow();
  });
});
