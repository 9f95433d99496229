import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/core/index.js';
import {
  CarbonLedger,
  GRID_INTENSITY_TABLE,
  JOULES_PER_KWH,
  carbonFromJoules,
  gridIntensityFor,
  resolveCarbonSettings,
  sumCarbon,
  type Measurement,
} from '../../src/energy/index.js';

function measurement(label: string, joules: number | null, source: Measurement['source'], flags: Measurement['flags'] = []): Measurement {
  return {
    label, durationS: 1, source, meter: source === 'none' ? 'none' : source === 'estimated' ? 'estimate' : 'rapl', devices: [], flags,
    energyJ: joules === null ? null : { total: joules, byDomain: {}, byDevice: {} },
    attribution: { method: 'whole-device', share: 1 }, startedAt: '2026-01-01T00:00:00.000Z', detail: {},
  };
}

describe('carbon intensity table', () => {
  it('has a source and year for every figure, and unique region codes', () => {
    const codes = new Set<string>();
    for (const r of GRID_INTENSITY_TABLE) {
      expect(r.source.length).toBeGreaterThan(20);
      expect(r.year).toBeGreaterThanOrEqual(2020);
      expect(r.gPerKwh).toBeGreaterThan(0);
      expect(codes.has(r.region)).toBe(false);
      codes.add(r.region);
    }
    expect(gridIntensityFor('fr')).toMatchObject({ region: 'FR', gPerKwh: 56, year: 2023 });
    expect(gridIntensityFor('WORLD').gPerKwh).toBe(481);
  });

  it('an unknown region is a UserError listing regions and the --carbon-intensity way out', () => {
    expect(() => gridIntensityFor('ATLANTIS')).toThrow(UserError);
    expect(() => resolveCarbonSettings({ region: 'ATLANTIS' })).toThrow(/--region 'ATLANTIS' is not in the carbon intensity table. Fix: pass one of WORLD, AR, .*--carbon-intensity G_PER_KWH/);
  });
});

describe('resolveCarbonSettings', () => {
  it('defaults to the world average and PUE 1, and says so', () => {
    const s = resolveCarbonSettings();
    expect(s).toMatchObject({ region: 'WORLD', intensityGPerKwh: 481, pue: 1, intensityYear: 2023 });
    expect(s.pueSource).toMatch(/default 1.0/);
  });

  it('prefers --region over the profile region, and --carbon-intensity over both', () => {
    expect(resolveCarbonSettings({ profileRegion: 'DE' }).intensityGPerKwh).toBe(381);
    expect(resolveCarbonSettings({ profileRegion: 'DE', region: 'se' }).intensityGPerKwh).toBe(41);
    expect(resolveCarbonSettings({ region: 'DE', carbonIntensityGPerKwh: 123, pue: 1.4 })).toMatchObject({ intensityGPerKwh: 123, intensitySource: '--carbon-intensity', pue: 1.4, pueSource: '--pue' });
  });

  it('rejects a PUE below 1 and a non-number intensity, naming the flag', () => {
    expect(() => resolveCarbonSettings({ pue: 0.9 })).toThrow(/--pue must be a number from 1 to 5/);
    expect(() => resolveCarbonSettings({ carbonIntensityGPerKwh: Number.NaN })).toThrow(/--carbon-intensity must be grams CO2e per kWh/);
  });
});

describe('carbon arithmetic', () => {
  it('converts joules to kWh and grams with PUE', () => {
    const s = resolveCarbonSettings({ carbonIntensityGPerKwh: 400, pue: 1.5 });
    expect(carbonFromJoules(JOULES_PER_KWH, s)).toEqual({ energyKwh: 1, facilityEnergyKwh: 1.5, carbonG: 600 });
    expect(carbonFromJoules(360, s).carbonG).toBeCloseTo(0.06, 12); // 1e-4 kWh × 1.5 × 400
  });

  it('keeps per-trial lines and a run total split by provenance; runs sum to the search total', () => {
    const s = resolveCarbonSettings({ region: 'FR' });
    const run1 = new CarbonLedger(s);
    run1.add(measurement('trial-1', 3.6e6, 'counter'));
    run1.add(measurement('trial-2', 1.8e6, 'estimated', ['window-shorter-than-update-period']));
    run1.add(measurement('trial-3', null, 'none'));
    const t1 = run1.total();
    expect(t1).toMatchObject({ energyJ: 5.4e6, energyJBySource: { counter: 3.6e6, estimated: 1.8e6 }, entries: 3, unmeasured: 1, flagged: 1, energyKwh: 1.5 });
    expect(t1.carbonG).toBeCloseTo(84, 9); // 1.5 kWh × 56 g
    expect(run1.entries()[0]).toMatchObject({ label: 'trial-1', energyKwh: 1, carbonG: 56, source: 'counter', flagged: false });
    const run2 = new CarbonLedger(s);
    run2.add(measurement('trial-1', 7.2e5, 'polled'));
    const search = sumCarbon([...run1.entries(), ...run2.entries()], s);
    expect(search.energyJ).toBe(6.12e6);
    expect(search.energyJBySource).toEqual({ counter: 3.6e6, estimated: 1.8e6, polled: 7.2e5 });
    expect(search.carbonG).toBeCloseTo(1.7 * 56, 9);
  });
});
