import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NvmlCallError, NvmlMeter, loadNvmlLibrary } from '../../src/energy/index.js';
import { ENERGY_FIXTURES } from './recorded-nvml.js';

// The real koffi binding against a compiled stand-in for libnvidia-ml (test/fixtures/energy/fake-nvml.c).
const cc = ['/usr/bin/cc', '/usr/bin/gcc'].find((p) => existsSync(p));
let dir = '';
let lib = '';

beforeAll(() => {
  if (!cc) return;
  dir = mkdtempSync(join(tmpdir(), 'greennas-fake-nvml-'));
  lib = join(dir, 'libnvidia-ml.so.1');
  execFileSync(cc, ['-shared', '-fPIC', '-O1', '-o', lib, join(ENERGY_FIXTURES, 'fake-nvml.c')]);
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!cc)('loadNvmlLibrary through koffi (compiled NVML stand-in)', () => {
  it('binds the NVML calls with their C signatures', async () => {
    const r = await loadNvmlLibrary([lib]);
    if (!r.ok) throw new Error(r.reason);
    const nvml = r.library;
    expect(nvml.deviceCount()).toBe(2);
    expect(nvml.device(0)).toEqual({ index: 0, uuid: 'GPU-6e1b0c7e-3f4a-8d2b-91c5-0a7d3e2f4b61', name: 'NVIDIA H100 80GB HBM3' });
    expect(nvml.device(1).name).toBe('Tesla P100-PCIE-16GB');
    expect(nvml.totalEnergyMj(0)).toBe(918273646620); // 64-bit value, above 2^32
    expect(nvml.totalEnergyMj(0)).toBe(918273648120);
    expect(() => nvml.totalEnergyMj(1)).toThrow(NvmlCallError);
    expect(() => nvml.totalEnergyMj(1)).toThrow(/nvmlDeviceGetTotalEnergyConsumption returned NVML error 3 \(Not Supported\)/);
    expect(nvml.powerMw(1)).toBe(250000);
    expect(() => nvml.device(5)).toThrow(/nvmlDeviceGetHandleByIndex_v2 returned NVML error 2/);
    nvml.shutdown();
  });

  it('drives NvmlMeter: counter on one GPU, polled power on the other, labelled polled', async () => {
    let t = 0;
    const meter = new NvmlMeter({ loadLibrary: () => loadNvmlLibrary([lib]), cudaVisibleDevices: undefined, sampleIntervalMs: 0, now: () => (t += 200) });
    const probe = await meter.probe();
    expect(probe.reason).toMatch(/NVIDIA H100 80GB HBM3 \(energy counter\), GPU 1 Tesla P100-PCIE-16GB \(polled power\)/);
    await meter.begin('w');
    const m = await meter.end('w');
    await meter.close();
    expect(m.source).toBe('polled'); // any polled device makes the whole figure polled
    expect(m.energyJ?.byDomain).toEqual({ gpu0: 1.5, gpu1: 50 }); // 1500 mJ per read; 250 W × 0.2 s
    expect(m.durationS).toBe(0.2);
  });

  it('greennas meter --meter nvml loads it by its soname and honours CUDA_VISIBLE_DEVICES', () => {
    const cli = fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url));
    const env = { ...process.env, LD_LIBRARY_PATH: dir, CUDA_VISIBLE_DEVICES: 'GPU-6e1b0c7e' };
    const r = spawnSync(process.execPath, [cli, 'meter', '--json', '--meter', 'nvml', '--', 'sleep', '0.2'], { env, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ meter: 'nvml', source: 'counter', energyJ: { total: 1.5, byDevice: { 'GPU-6e1b0c7e-3f4a-8d2b-91c5-0a7d3e2f4b61': 1.5 } } });
    expect(out.devices).toEqual([{ id: 'GPU-6e1b0c7e-3f4a-8d2b-91c5-0a7d3e2f4b61', name: 'NVIDIA H100 80GB HBM3', kind: 'gpu' }]);
    expect(out.detail.via).toBe('nvml:libnvidia-ml.so.1');
  });
});
