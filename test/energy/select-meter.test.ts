import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { UserError } from '../../src/core/index.js';
import { loadHardwareProfiles, selectMeter } from '../../src/energy/index.js';
import { ENERGY_FIXTURES, noNvml, noSmi, recordedNvml } from './recorded-nvml.js';

const profiles = loadHardwareProfiles();
const cpuProfile = profiles.find((p) => p.id === 'amd-epyc-vm-2vcpu')!;
const temps: string[] = [];
afterEach(() => {
  for (const d of temps.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('selectMeter', () => {
  it('auto picks the best available and says why each better one is not', async () => {
    const { meter, probes } = await selectMeter({ profile: cpuProfile, powercapRoot: '/nonexistent', nvml: { loadLibrary: noNvml, runCommand: noSmi } });
    expect(meter.name).toBe('estimate');
    expect(probes.map((p) => [p.meter, p.available])).toEqual([['nvml', false], ['rapl', false], ['estimate', true]]);
    expect(probes[0]!.reason).toMatch(/no NVIDIA GPU found/);
    expect(probes[1]!.reason).toMatch(/does not exist/);
  });

  it('auto prefers RAPL counters to the estimate, and reads NVML and RAPL together when both exist', async () => {
    const root = mkdtempSync(join(tmpdir(), 'greennas-sel-'));
    temps.push(root);
    cpSync(join(ENERGY_FIXTURES, 'powercap-amd'), root, { recursive: true });
    const rapl = await selectMeter({ profile: cpuProfile, powercapRoot: root, nvml: { loadLibrary: noNvml, runCommand: noSmi } });
    expect(rapl.meter.name).toBe('rapl');
    expect(rapl.probes.map((p) => p.meter)).toEqual(['nvml', 'rapl']); // the estimate is not even probed
    const rec = recordedNvml('nvml-h100x2-counter.json');
    const both = await selectMeter({ profile: cpuProfile, powercapRoot: root, sampleIntervalMs: 0, nvml: { loadLibrary: rec.load, cudaVisibleDevices: undefined } });
    expect(both.meter.name).toBe('nvml+rapl');
    expect(both.probes.map((p) => [p.meter, p.available])).toEqual([['nvml', true], ['rapl', true]]);
    await both.meter.begin('trial');
    writeFileSync(join(root, 'amd-rapl:0', 'energy_uj'), '44500000\n'); // +2.5 J on the CPU package
    const m = await both.meter.end('trial');
    await both.meter.close();
    // GPUs: (918275150250 − 918273650000) + (402118011500 − 402117301000) mJ = 1500.25 + 710.5 J
    expect(m.energyJ?.byDomain).toEqual({ gpu0: 1500.25, gpu1: 710.5, 'package-0': 2.5 });
    expect(m.energyJ?.total).toBe(2213.25);
    expect(m.source).toBe('counter');
    expect(m.meter).toBe('nvml+rapl');
    expect(m.devices.map((d) => d.kind)).toEqual(['gpu', 'gpu', 'cpu-package']);
    expect(Object.keys(m.detail)).toEqual(['nvml', 'rapl']);
  });

  it('falls through to none when even the estimate cannot run (GPU profile, no GPU)', async () => {
    const gpuProfile = profiles.find((p) => p.id === 'nvidia-a100-sxm4-80gb')!;
    const { meter, probes } = await selectMeter({ profile: gpuProfile, powercapRoot: '/nonexistent', nvml: { loadLibrary: noNvml, runCommand: noSmi } });
    expect(meter.name).toBe('none');
    expect(probes.map((p) => p.available)).toEqual([false, false, false, true]);
  });

  it('a forced meter never falls back silently', async () => {
    await expect(selectMeter({ meter: 'rapl', profile: cpuProfile, powercapRoot: '/nonexistent' })).rejects.toThrow(UserError);
    await expect(selectMeter({ meter: 'rapl', profile: cpuProfile, powercapRoot: '/nonexistent' })).rejects.toThrow(/--meter rapl is not available: \/nonexistent does not exist.*Fix: /);
    await expect(selectMeter({ meter: 'bogus' as never, profile: cpuProfile })).rejects.toThrow(/--meter 'bogus' is not a meter/);
    const forced = await selectMeter({ meter: 'none', profile: cpuProfile });
    expect(forced.meter.name).toBe('none');
  });
});

describe('resolveEnergySetup', () => {
  it('validates every flag before probing and returns meter, profile and carbon with provenance', async () => {
    const { resolveEnergySetup } = await import('../../src/energy/index.js');
    const setup = await resolveEnergySetup({ meter: 'estimate', profile: 'laptop-x86-cpu', region: 'de', pue: 1.1 });
    expect(setup.meter.name).toBe('estimate');
    expect(setup.profile.id).toBe('laptop-x86-cpu');
    expect(setup.profileChosenBy).toBe('flag');
    expect(setup.carbon).toMatchObject({ region: 'DE', intensityGPerKwh: 381, pue: 1.1 });
    await expect(resolveEnergySetup({ meter: 'watts' })).rejects.toThrow(/--meter 'watts' is not a meter/);
    await expect(resolveEnergySetup({ sampleIntervalMs: 0.5 })).rejects.toThrow(/--sample-interval-ms must be a positive whole number/);
    await expect(resolveEnergySetup({ profile: 'nope' })).rejects.toThrow(/--profile 'nope'/);
    await expect(resolveEnergySetup({ region: 'XX' })).rejects.toThrow(/--region 'XX'/);
    await expect(resolveEnergySetup({ profilesDir: '/nonexistent/profiles' })).rejects.toThrow(/cannot read hardware profiles folder .*Fix: point --profiles-dir/);
  });
});
