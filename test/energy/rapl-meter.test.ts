import { cpSync, mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { UserError } from '../../src/core/index.js';
import {
  RaplMeter,
  counterDeltaUj,
  discoverRaplZones,
  nodePowercapFs,
  selectMeter,
  type PowercapFs,
} from '../../src/energy/index.js';
import { loadHardwareProfiles } from '../../src/energy/index.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/energy', import.meta.url));
const PKG_MAX = 262143328850;
const DRAM_MAX = 65712999613;
const temps: string[] = [];

function copyTree(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'greennas-powercap-'));
  temps.push(dir);
  cpSync(join(FIXTURES, name), dir, { recursive: true });
  return dir;
}

function setUj(root: string, zone: string, uj: number): void {
  writeFileSync(join(root, zone, 'energy_uj'), `${uj}\n`);
}

afterEach(() => {
  for (const d of temps.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('counterDeltaUj', () => {
  it('subtracts when the counter advanced and adds the wrap span (max + 1) when it wrapped', () => {
    expect(counterDeltaUj(1_000, 5_000, 10_000)).toBe(4_000);
    // 9_000 → 10_000 is 1_000, 10_000 → 0 is one more µJ, 0 → 500 is 500.
    expect(counterDeltaUj(9_000, 500, 10_000)).toBe(1_501);
    expect(counterDeltaUj(7, 7, 10_000)).toBe(0);
  });
});

describe('discoverRaplZones', () => {
  it('finds packages and their DRAM, skipping core (inside the package), psys (double count) and top-level subzone duplicates', () => {
    const { zones, skipped } = discoverRaplZones(join(FIXTURES, 'powercap-intel-2pkg'));
    expect(zones.map((z) => [z.path, z.domain, z.kind, z.maxEnergyRangeUj])).toEqual([
      ['intel-rapl:0', 'package-0', 'cpu-package', PKG_MAX],
      ['intel-rapl:0/intel-rapl:0:2', 'package-0/dram', 'dram', DRAM_MAX],
      ['intel-rapl:1', 'package-1', 'cpu-package', PKG_MAX],
    ]);
    expect(skipped).toEqual(['intel-rapl:0/intel-rapl:0:0 (core)', 'intel-rapl:2 (psys)']);
  });

  it("reads AMD's amd-rapl:N zones the same way", () => {
    const { zones } = discoverRaplZones(join(FIXTURES, 'powercap-amd'));
    expect(zones.map((z) => z.domain)).toEqual(['package-0']);
  });
});

describe('RaplMeter on a fixture tree', () => {
  it('reports the exact joules a counter advanced, per domain and device', async () => {
    const root = copyTree('powercap-intel-2pkg');
    const meter = new RaplMeter({ powercapRoot: root, sampleIntervalMs: 0 });
    expect((await meter.probe()).available).toBe(true);
    await meter.begin('trial');
    setUj(root, 'intel-rapl:0', 1_000_000 + 250_000_000); // +250 J
    setUj(root, 'intel-rapl:0/intel-rapl:0:2', 2_000_000 + 12_500_000); // +12.5 J
    setUj(root, 'intel-rapl:1', 7_000_000 + 99_000_001); // +99.000001 J
    setUj(root, 'intel-rapl:2', 1); // psys must not count
    const m = await meter.end('trial');
    await meter.close();
    expect(m.source).toBe('counter');
    expect(m.meter).toBe('rapl');
    expect(m.energyJ?.byDomain).toEqual({ 'package-0': 250, 'package-0/dram': 12.5, 'package-1': 99.000001 });
    expect(m.energyJ?.byDevice).toEqual({ 'package-0': 250, 'package-0/dram': 12.5, 'package-1': 99.000001 });
    expect(m.energyJ?.total).toBeCloseTo(361.500001, 9);
    expect(m.devices.map((d) => d.id)).toEqual(['package-0', 'package-0/dram', 'package-1']);
    expect(m.attribution.method).toBe('whole-device');
    expect(m.detail.counters).toMatchObject({ 'package-0': { startUj: 1_000_000, endUj: 251_000_000, wraps: 0 } });
  });

  it('counts a wraparound through max_energy_range_uj exactly', async () => {
    const root = copyTree('powercap-intel-2pkg');
    setUj(root, 'intel-rapl:0', PKG_MAX - 3_000_000); // 3 J before the wrap
    const meter = new RaplMeter({ powercapRoot: root, sampleIntervalMs: 0 });
    await meter.begin('w');
    setUj(root, 'intel-rapl:0', 4_000_000 - 1); // wrapped: 3 J + 1 µJ (max → 0) + 3.999999 J
    const m = await meter.end('w');
    await meter.close();
    expect(m.energyJ?.byDomain['package-0']).toBe(7);
    expect(m.detail.counters).toMatchObject({ 'package-0': { startUj: PKG_MAX - 3_000_000, endUj: 3_999_999, wraps: 1 } });
  });

  it('counts several wraps inside one window when sampled at least once per wrap', async () => {
    const root = copyTree('powercap-amd'); // max 4294967295 µJ, a wrap every ~4295 J
    const span = 4_294_967_296;
    const meter = new RaplMeter({ powercapRoot: root, sampleIntervalMs: 0 });
    await meter.begin('long');
    let raw = 42_000_000;
    let expectedUj = 0;
    for (let i = 0; i < 5; i++) {
      const step = 3_000_000_000; // 3000 J per poll, so a wrap every other poll
      raw = (raw + step) % span;
      expectedUj += step;
      setUj(root, 'amd-rapl:0', raw);
      await meter.poll();
    }
    const m = await meter.end('long');
    await meter.close();
    expect(m.energyJ?.total).toBe(expectedUj / 1e6); // 15000 J
    expect(m.detail.counters).toMatchObject({ 'package-0': { wraps: 3 } });
  });

  it('gives overlapping windows their own differences', async () => {
    const root = copyTree('powercap-amd');
    const meter = new RaplMeter({ powercapRoot: root, sampleIntervalMs: 0 });
    await meter.begin('run');
    setUj(root, 'amd-rapl:0', 43_000_000); // +1 J
    await meter.begin('trial-1');
    setUj(root, 'amd-rapl:0', 45_500_000); // +2.5 J
    const t1 = await meter.end('trial-1');
    setUj(root, 'amd-rapl:0', 46_000_000); // +0.5 J
    const run = await meter.end('run');
    await meter.close();
    expect(t1.energyJ?.total).toBe(2.5);
    expect(run.energyJ?.total).toBe(4);
    await expect(meter.end('trial-1')).rejects.toThrow(/not open/);
  });

  it('flags a zero reading and a window shorter than the counter update period', async () => {
    const root = copyTree('powercap-amd');
    let t = 0;
    const meter = new RaplMeter({ powercapRoot: root, sampleIntervalMs: 0, now: () => t });
    await meter.begin('tiny');
    t += 0.5; // 0.5 ms, below RAPL's ~1 ms update
    const m = await meter.end('tiny');
    expect(m.durationS).toBe(0.0005);
    expect(m.flags).toEqual(['zero-reading', 'window-shorter-than-update-period']);
  });

  it('rejects a second begin() of an open label', async () => {
    const root = copyTree('powercap-amd');
    const meter = new RaplMeter({ powercapRoot: root, sampleIntervalMs: 0 });
    await meter.begin('a');
    await expect(meter.begin('a')).rejects.toThrow(/already open/);
    await meter.close();
  });
});

describe('RaplMeter errors', () => {
  const profile = loadHardwareProfiles().find((p) => p.id === 'generic-x86-server-cpu')!;

  it('says why and how to fix when energy_uj is root-only (EACCES), and a forced rapl meter is a UserError', async () => {
    const denying: PowercapFs = {
      readdir: nodePowercapFs.readdir,
      readFile: (p) => {
        if (p.endsWith('energy_uj')) throw Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
        return nodePowercapFs.readFile(p);
      },
    };
    const root = join(FIXTURES, 'powercap-intel-2pkg');
    const probe = await new RaplMeter({ powercapRoot: root, fs: denying }).probe();
    expect(probe.available).toBe(false);
    expect(probe.reason).toMatch(/permission denied/);
    expect(probe.fix).toMatch(/chmod a\+r/);
    expect(probe.fix).toMatch(/--meter estimate/);
    const forced = selectMeter({ meter: 'rapl', profile, powercapRoot: root, powercapFs: denying });
    await expect(forced).rejects.toBeInstanceOf(UserError);
    await expect(forced).rejects.toThrow(/--meter rapl is not available: .*permission denied.*Fix: .*chmod/);
  });

  it('reports a missing root, a tree without packages, and a non-numeric counter', async () => {
    expect((await new RaplMeter({ powercapRoot: '/nonexistent/powercap' }).probe()).reason).toMatch(/does not exist/);
    expect((await new RaplMeter({ powercapRoot: join(FIXTURES, 'powercap-empty') }).probe()).reason).toMatch(/no RAPL package zones/);
    const root = copyTree('powercap-amd');
    writeFileSync(join(root, 'amd-rapl:0', 'energy_uj'), 'garbage\n');
    expect((await new RaplMeter({ powercapRoot: root }).probe()).reason).toMatch(/not a whole number/);
    rmSync(join(root, 'amd-rapl:0', 'energy_uj'));
    mkdirSync(join(root, 'amd-rapl:0', 'energy_uj'));
    expect((await new RaplMeter({ powercapRoot: root }).probe()).reason).toMatch(/cannot read .*energy_uj: EISDIR/);
  });

  it('turns a read failure inside an open window into a UserError with the fix', async () => {
    const root = copyTree('powercap-amd');
    const meter = new RaplMeter({ powercapRoot: root, sampleIntervalMs: 0 });
    await meter.begin('w');
    rmSync(join(root, 'amd-rapl:0', 'energy_uj'));
    await expect(meter.end('w')).rejects.toThrow(/RAPL read failed: cannot read .*Fix:/);
    await meter.close();
  });
});
