import { describe, expect, it } from 'vitest';
import {
  EstimateMeter,
  NoneMeter,
  attributeByCpuTime,
  isCleanMeasurement,
  loadHardwareProfiles,
  measureEnergy,
  measurementToMetric,
  openEnergyWindow,
  type CpuTimeSource,
  type ErrorWithEnergy,
} from '../../src/energy/index.js';

const profile = loadHardwareProfiles().find((p) => p.id === 'laptop-x86-cpu')!;

function steppingMeter(): EstimateMeter {
  let cpu = 0;
  let t = 0;
  const cpuTime: CpuTimeSource = { name: 'fake', cpuSeconds: () => (cpu += 1) };
  return new EstimateMeter({ profile, cpuTime, now: () => (t += 1000) });
}

describe('trial windows', () => {
  it('measureEnergy returns the value and the window measurement', async () => {
    const meter = steppingMeter();
    const { value, measurement } = await measureEnergy(meter, 'trial-1/train', async () => 42);
    expect(value).toBe(42);
    expect(measurement.label).toBe('trial-1/train');
    expect(measurement.source).toBe('estimated');
    expect(meter.openWindows()).toEqual([]);
  });

  it('a failing trial still closes its window and carries its energy on the error', async () => {
    const meter = steppingMeter();
    const err = (await measureEnergy(meter, 'trial-2/train', () => { throw new Error('NaN loss'); }).catch((e: unknown) => e)) as ErrorWithEnergy;
    expect(err.message).toBe('NaN loss');
    expect(err.energyMeasurement?.energyJ?.total).toBeGreaterThan(0);
    expect(meter.openWindows()).toEqual([]);
  });

  it('openEnergyWindow().close() is idempotent', async () => {
    const meter = steppingMeter();
    const w = await openEnergyWindow(meter, 'x');
    const a = await w.close();
    expect(await w.close()).toBe(a);
  });

  it('the none meter records "not measured", never 0 J', async () => {
    const { measurement } = await measureEnergy(new NoneMeter(), 't', () => undefined);
    expect(measurement.energyJ).toBeNull();
    expect(measurement.source).toBe('none');
    expect(isCleanMeasurement(measurement)).toBe(false);
    expect(measurementToMetric(measurement)).toBeNull();
  });

  it('measurementToMetric keeps provenance for the store', async () => {
    const { measurement } = await measureEnergy(steppingMeter(), 't', () => 1);
    const metric = measurementToMetric(measurement, 'energy.train');
    expect(metric).toMatchObject({ name: 'energy.train', unit: 'J', source: 'estimated', value: measurement.energyJ!.total });
    expect(metric?.detail).toMatchObject({ meter: 'estimate', durationS: measurement.durationS, flags: [], attribution: { method: 'process-cpu-time' } });
  });
});

describe('attributeByCpuTime', () => {
  it('splits a shared package by CPU-time share and records the method', async () => {
    const { measurement } = await measureEnergy(steppingMeter(), 'shared', () => 1);
    const total = measurement.energyJ!.total;
    const parts = attributeByCpuTime(measurement, { w0: 3, w1: 1 });
    expect(parts.w0!.energyJ!.total).toBeCloseTo(total * 0.75, 12);
    expect(parts.w1!.energyJ!.total).toBeCloseTo(total * 0.25, 12);
    expect(parts.w0!.attribution).toMatchObject({ method: 'cpu-time-share', share: 0.75, detail: { worker: 'w0', cpuS: 3, totalCpuS: 4, workers: 2 } });
    expect(parts.w0!.energyJ!.byDomain.idle! + parts.w1!.energyJ!.byDomain.idle!).toBeCloseTo(measurement.energyJ!.byDomain.idle!, 12);
  });

  it('falls back to an equal split, and says so, when no CPU time was used', async () => {
    const { measurement } = await measureEnergy(steppingMeter(), 'shared', () => 1);
    const parts = attributeByCpuTime(measurement, { a: 0, b: 0 });
    expect(parts.a!.attribution).toMatchObject({ method: 'equal-share', share: 0.5 });
    expect(() => attributeByCpuTime(measurement, { a: -1 })).toThrow(/must be a finite number >= 0/);
  });
});
