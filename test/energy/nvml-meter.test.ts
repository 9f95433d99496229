import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/core/index.js';
import {
  NVIDIA_SMI_QUERY_ARGS,
  NvmlMeter,
  loadHardwareProfiles,
  loadNvmlLibrary,
  parseNvidiaSmiCsv,
  selectMeter,
  selectVisibleGpus,
} from '../../src/energy/index.js';
import { ENERGY_FIXTURES, noNvml, noSmi, recordedNvml, recordedSmi } from './recorded-nvml.js';

const H100_0 = 'GPU-6e1b0c7e-3f4a-8d2b-91c5-0a7d3e2f4b61';
const H100_1 = 'GPU-b24c9a10-77e2-4c1f-a3d8-5f60e91b2c07';

describe('NvmlMeter with the total-energy counter (recorded NVML answers)', () => {
  it('reports each visible GPU\'s exact joules from the mJ counter', async () => {
    const rec = recordedNvml('nvml-h100x2-counter.json');
    const meter = new NvmlMeter({ loadLibrary: rec.load, cudaVisibleDevices: undefined });
    const probe = await meter.probe();
    expect(probe).toMatchObject({ meter: 'nvml', available: true });
    expect(probe.reason).toMatch(/GPU 0 NVIDIA H100 80GB HBM3 \(energy counter\)/);
    await meter.begin('trial-3/train');
    await meter.poll();
    const m = await meter.end('trial-3/train');
    await meter.close();
    expect(m.source).toBe('counter');
    // (918275210750 − 918273650000) mJ and (402118012000 − 402117301000) mJ
    expect(m.energyJ?.byDevice).toEqual({ [H100_0]: 1560.75, [H100_1]: 711 });
    expect(m.energyJ?.byDomain).toEqual({ gpu0: 1560.75, gpu1: 711 });
    expect(m.energyJ?.total).toBe(2271.75);
    expect(m.devices.map((d) => d.id)).toEqual([H100_0, H100_1]);
    expect(m.detail.gpus).toEqual([
      { index: 0, uuid: H100_0, name: 'NVIDIA H100 80GB HBM3', mode: 'counter' },
      { index: 1, uuid: H100_1, name: 'NVIDIA H100 80GB HBM3', mode: 'counter' },
    ]);
    expect(rec.shutdowns()).toBe(1);
  });

  it('reads only the GPUs CUDA_VISIBLE_DEVICES leaves visible (by index)', async () => {
    const rec = recordedNvml('nvml-h100x2-counter.json');
    const meter = new NvmlMeter({ loadLibrary: rec.load, cudaVisibleDevices: '1' });
    await meter.begin('w');
    const m = await meter.end('w');
    expect(m.energyJ?.byDevice).toEqual({ [H100_1]: 710.5 }); // 402118011500 − 402117301000 mJ
    expect(rec.calls.every((c) => c.endsWith(':1'))).toBe(true);
  });

  it('accepts a UUID prefix in CUDA_VISIBLE_DEVICES', async () => {
    const rec = recordedNvml('nvml-h100x2-counter.json');
    const meter = new NvmlMeter({ loadLibrary: rec.load, cudaVisibleDevices: 'GPU-6e1b0c7e' });
    await meter.begin('w');
    const m = await meter.end('w');
    expect(Object.keys(m.energyJ?.byDevice ?? {})).toEqual([H100_0]);
  });

  it('is unavailable when CUDA_VISIBLE_DEVICES hides every GPU', async () => {
    const rec = recordedNvml('nvml-h100x2-counter.json');
    const probe = await new NvmlMeter({ loadLibrary: rec.load, cudaVisibleDevices: '' }).probe();
    expect(probe.available).toBe(false);
    expect(probe.reason).toMatch(/no GPU is visible: CUDA_VISIBLE_DEVICES is empty/);
  });

  it('excludes a GPU whose counter went backwards and flags the window', async () => {
    const rec = recordedNvml('nvml-h100x2-reset.json');
    const meter = new NvmlMeter({ loadLibrary: rec.load, cudaVisibleDevices: undefined });
    await meter.begin('w');
    const m = await meter.end('w');
    expect(m.energyJ?.byDomain).toEqual({ gpu0: 7 });
    expect(m.flags).toContain('counter-reset');
    expect(m.detail.excludedDomains).toEqual(['gpu1']);
  });
});

describe('NvmlMeter without the counter: polled power, labelled polled', () => {
  it('integrates NVML power by the trapezoid rule when the counter is NOT_SUPPORTED', async () => {
    const rec = recordedNvml('nvml-p100-no-counter.json');
    const meter = new NvmlMeter({ loadLibrary: rec.load, cudaVisibleDevices: undefined, sampleIntervalMs: 0, now: rec.now });
    expect((await meter.probe()).reason).toMatch(/Tesla P100-PCIE-16GB \(polled power\)/);
    await meter.begin('w');
    await meter.poll();
    await meter.poll();
    const m = await meter.end('w');
    expect(m.source).toBe('polled');
    expect(m.durationS).toBe(0.3);
    // (31.25+152)/2·0.1 + (152+248)/2·0.1 + (248+250)/2·0.1 W·s
    expect(m.energyJ?.total).toBe(54.0625);
    expect(m.detail).toMatchObject({ integration: 'trapezoid', samples: 4 });
  });

  it('falls back to nvidia-smi power.draw when libnvidia-ml cannot be loaded', async () => {
    const smi = recordedSmi('nvidia-smi-h100x2-polled.json');
    const meter = new NvmlMeter({ loadLibrary: noNvml, runCommand: smi.run, cudaVisibleDevices: undefined, sampleIntervalMs: 0, now: smi.now });
    const probe = await meter.probe();
    expect(probe.reason).toMatch(/^nvidia-smi: GPU 0 NVIDIA H100 80GB HBM3 \(polled power\)/);
    await meter.begin('w');
    await meter.poll();
    const m = await meter.end('w');
    expect(m.source).toBe('polled');
    expect(m.durationS).toBe(1);
    // GPU 0: (70+412.4)/2·0.5 + (412.4+655.6)/2·0.5 = 387.6 J; GPU 1: (71+71.2)/2·0.5 + (71.2+71.8)/2·0.5 = 71.3 J
    expect(m.energyJ?.byDevice).toEqual({ [H100_0]: 387.6, [H100_1]: 71.3 });
    expect(m.energyJ?.total).toBeCloseTo(458.9, 12);
    expect(smi.argsSeen[0]).toEqual([...NVIDIA_SMI_QUERY_ARGS]);
  });
});

describe('no NVIDIA on the machine', () => {
  const profile = loadHardwareProfiles().find((p) => p.id === 'generic-x86-server-cpu')!;

  it('probes unavailable with the reason, and a forced --meter nvml is a UserError naming the fix', async () => {
    const probe = await new NvmlMeter({ loadLibrary: noNvml, runCommand: noSmi }).probe();
    expect(probe.available).toBe(false);
    expect(probe.reason).toMatch(/no NVIDIA GPU found: .*nvidia-smi is not installed/);
    const forced = selectMeter({ meter: 'nvml', profile, nvml: { loadLibrary: noNvml, runCommand: noSmi } });
    await expect(forced).rejects.toBeInstanceOf(UserError);
    await expect(forced).rejects.toThrow(/--meter nvml is not available: .*Fix: install the NVIDIA driver/);
  });

  it('the real loader reports a reason instead of throwing when libnvidia-ml is absent', async () => {
    const r = await loadNvmlLibrary(['libnvidia-ml-definitely-absent.so.1']);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(/libnvidia-ml could not be loaded/);
  });

  it('is unavailable when nvidia-smi reports no power.draw', async () => {
    const text = readFileSync(ENERGY_FIXTURES + 'nvidia-smi-no-power.csv', 'utf8');
    const probe = await new NvmlMeter({ loadLibrary: noNvml, runCommand: async () => text }).probe();
    expect(probe.available).toBe(false);
    expect(probe.reason).toMatch(/no power.draw for GPU 0 \(NVIDIA GeForce GTX 1050 Ti\)/);
  });
});

describe('parseNvidiaSmiCsv and selectVisibleGpus', () => {
  it('parses recorded nvidia-smi output, [N/A] power as null', () => {
    expect(parseNvidiaSmiCsv(readFileSync(ENERGY_FIXTURES + 'nvidia-smi-h100x2.csv', 'utf8'))).toEqual([
      { index: 0, uuid: H100_0, name: 'NVIDIA H100 80GB HBM3', powerW: 69.52 },
      { index: 1, uuid: H100_1, name: 'NVIDIA H100 80GB HBM3', powerW: 71.08 },
    ]);
    expect(parseNvidiaSmiCsv(readFileSync(ENERGY_FIXTURES + 'nvidia-smi-no-power.csv', 'utf8'))[0]?.powerW).toBeNull();
    expect(() => parseNvidiaSmiCsv('No devices were found\n')).toThrow(/unexpected nvidia-smi line/);
  });

  it('follows CUDA semantics: order kept, stops at the first unknown entry, MIG not metered', () => {
    const all = [
      { index: 0, uuid: H100_0, name: 'a' },
      { index: 1, uuid: H100_1, name: 'b' },
    ];
    expect(selectVisibleGpus(all, undefined).gpus.map((g) => g.index)).toEqual([0, 1]);
    expect(selectVisibleGpus(all, '1,0').gpus.map((g) => g.index)).toEqual([1, 0]);
    const stopped = selectVisibleGpus(all, '0,7,1');
    expect(stopped.gpus.map((g) => g.index)).toEqual([0]);
    expect(stopped.note).toMatch(/'7' names no GPU/);
    expect(selectVisibleGpus(all, 'GPU-b24c').gpus.map((g) => g.index)).toEqual([1]);
    expect(selectVisibleGpus(all, 'GPU-').gpus).toEqual([]); // ambiguous prefix names no single GPU
    expect(selectVisibleGpus(all, 'MIG-1234').note).toMatch(/MIG instance/);
  });
});
