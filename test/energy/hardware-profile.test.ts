import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { UserError } from '../../src/core/index.js';
import {
  defaultProfilesDir,
  detectProfiles,
  loadHardwareProfiles,
  readMachineFacts,
  resolveHardwareProfile,
  validateHardwareProfile,
  type HardwareProfile,
} from '../../src/energy/index.js';

const temps: string[] = [];
afterEach(() => {
  for (const d of temps.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('shipped hardware profiles', () => {
  const profiles = loadHardwareProfiles();

  it('all validate, and cover the devices the issue names', () => {
    expect(profiles.map((p) => p.id)).toEqual([
      'amd-epyc-vm-2vcpu', 'generic-x86-server-cpu', 'laptop-x86-cpu', 'nvidia-a100-sxm4-80gb',
      'nvidia-h100-sxm5', 'nvidia-h200-sxm', 'nvidia-v100-sxm2', 'raspberry-pi-4',
    ]);
  });

  it('give every figure a source and a basis', () => {
    for (const p of profiles) {
      for (const key of ['idleW', 'maxW', 'logicalCpus', 'peakFlops', 'memoryBandwidthBytesPerS'] as const) {
        const f = p[key];
        if (!f) continue;
        expect(f.source.length, `${p.id}.${key}`).toBeGreaterThan(20);
        expect(['datasheet', 'measured', 'derived', 'assumption']).toContain(f.basis);
      }
    }
  });

  it('carry datasheet maxima for the GPUs', () => {
    const max = Object.fromEntries(profiles.map((p) => [p.id, p.maxW.value]));
    expect(max).toMatchObject({ 'nvidia-v100-sxm2': 300, 'nvidia-a100-sxm4-80gb': 400, 'nvidia-h100-sxm5': 700, 'nvidia-h200-sxm': 700 });
  });
});

describe('validateHardwareProfile', () => {
  const good = JSON.parse(readFileSync(join(defaultProfilesDir(), 'raspberry-pi-4.json'), 'utf8')) as Record<string, unknown>;
  const check = (mutate: (o: Record<string, unknown>) => void, file = 'raspberry-pi-4.json') => {
    const o = structuredClone(good);
    mutate(o);
    return () => validateHardwareProfile(o, `hardware-profiles/${file}`);
  };

  it('names the file and the field in its errors', () => {
    expect(check((o) => { (o.idleW as Record<string, unknown>).value = 'abc'; })).toThrow(/hardware profile hardware-profiles\/raspberry-pi-4.json: field 'idleW.value' must be a finite number >= 0, got "abc"/);
    expect(check((o) => { delete (o.maxW as Record<string, unknown>).source; })).toThrow(/field 'maxW.source' must name where the figure comes from/);
    expect(check((o) => { (o.maxW as Record<string, unknown>).unit = 'kW'; })).toThrow(/field 'maxW.unit' must be 'W'/);
    expect(check((o) => { o.kind = 'tpu'; })).toThrow(/field 'kind' must be one of/);
    expect(check((o) => { o.colour = 'red'; })).toThrow(/field 'colour' is not a known field/);
    expect(check(() => {}, 'other-name.json')).toThrow(/field 'id' must equal the file name/);
    expect(check((o) => { (o.idleW as Record<string, unknown>).value = 99; })).toThrow(/'idleW.value' must not exceed maxW.value/);
    expect(check((o) => { o.detect = { cpuModel: '(' }; })).toThrow(/'detect.cpuModel' is not a valid regular expression/);
    expect(check((o) => { o.preferredMeters = ['joulemeter']; })).toThrow(/'preferredMeters\[0\]' must be one of/);
    expect(check((o) => { (o.idleW as Record<string, unknown>).value = 'abc'; })).toThrow(UserError);
  });

  it('reports invalid JSON with the file name', () => {
    const dir = mkdtempSync(join(tmpdir(), 'greennas-profiles-'));
    temps.push(dir);
    writeFileSync(join(dir, 'broken.json'), '{ "id": ');
    expect(() => loadHardwareProfiles(dir)).toThrow(/broken.json is not valid JSON/);
  });
});

describe('detection and --profile', () => {
  const profiles = loadHardwareProfiles();
  const facts = (cpuModel: string | null, logicalCpus: number, gpuNames: string[] = []) => ({ cpuModel, logicalCpus, gpuNames });

  it('detects this VM kind (AMD EPYC, 2 vCPUs) and not a bigger EPYC box', () => {
    expect(detectProfiles(profiles, facts('AMD EPYC', 2)).cpu?.id).toBe('amd-epyc-vm-2vcpu');
    expect(detectProfiles(profiles, facts('AMD EPYC 7763 64-Core Processor', 128)).cpu).toBeNull();
    expect(resolveHardwareProfile(profiles, undefined, facts('AMD EPYC 7763 64-Core Processor', 128))).toMatchObject({ profile: { id: 'generic-x86-server-cpu' }, chosenBy: 'generic' });
  });

  it('detects a Raspberry Pi from the board Model line and GPUs by name', () => {
    const dir = mkdtempSync(join(tmpdir(), 'greennas-cpuinfo-'));
    temps.push(dir);
    writeFileSync(join(dir, 'cpuinfo'), 'processor\t: 0\nBogoMIPS\t: 108.00\n\nHardware\t: BCM2835\nModel\t\t: Raspberry Pi 4 Model B Rev 1.4\n');
    const f = readMachineFacts(['NVIDIA H100 80GB HBM3'], join(dir, 'cpuinfo'));
    expect(f.cpuModel).toBe('Raspberry Pi 4 Model B Rev 1.4');
    const d = detectProfiles(profiles, f);
    expect(d.cpu?.id).toBe('raspberry-pi-4');
    expect(d.gpus.map((p: HardwareProfile) => p.id)).toEqual(['nvidia-h100-sxm5']);
  });

  it('an unknown --profile is a UserError listing the known ids', () => {
    expect(() => resolveHardwareProfile(profiles, 'tpu-v9', facts(null, 4))).toThrow(UserError);
    expect(() => resolveHardwareProfile(profiles, 'tpu-v9', facts(null, 4))).toThrow(/--profile 'tpu-v9' is not a known hardware profile. Fix: pass one of amd-epyc-vm-2vcpu, .*greennas profiles/);
    expect(resolveHardwareProfile(profiles, 'nvidia-a100-sxm4-80gb', facts(null, 4))).toMatchObject({ chosenBy: 'flag' });
  });
});
