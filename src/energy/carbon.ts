import { UserError } from '../core/index.js';
import { GRID_INTENSITY_TABLE, type GridIntensity } from './grid-intensity.js';
import type { EnergySource, Measurement } from './measurement.js';

/** Joules in one kilowatt-hour. */
export const JOULES_PER_KWH = 3.6e6;

/** Region used when neither --region nor the hardware profile names one. */
export const DEFAULT_REGION = 'WORLD';

/** Power usage effectiveness used when --pue is not given: 1.0 counts the device's energy only. */
export const DEFAULT_PUE = 1.0;

/** Everything needed to turn joules into grams of CO2e, with where each figure came from. */
export interface CarbonSettings {
  /** Grid intensity in grams CO2e per kWh. */
  intensityGPerKwh: number;
  /** Facility overhead multiplier (>= 1). */
  pue: number;
  /** Region code, or null when the intensity was given directly. */
  region: string | null;
  /** Where the intensity figure comes from. */
  intensitySource: string;
  /** Year the intensity describes, or null when given directly. */
  intensityYear: number | null;
  /** Where the PUE comes from (`--pue` or the default). */
  pueSource: string;
}

/** Looks a region up in the shipped table (case-insensitive); unknown regions are a UserError listing the known ones. */
export function gridIntensityFor(region: string): GridIntensity {
  const row = GRID_INTENSITY_TABLE.find((r) => r.region === region.toUpperCase());
  if (!row) {
    throw new UserError(
      `--region '${region}' is not in the carbon intensity table. Fix: pass one of ${GRID_INTENSITY_TABLE.map((r) => r.region).join(', ')}, or give the figure directly with --carbon-intensity G_PER_KWH.`,
      { subject: '--region' },
    );
  }
  return row;
}

/** The flags that set carbon accounting. */
export interface CarbonFlags {
  /** `--region` code. */
  region?: string;
  /** `--carbon-intensity` in g CO2e/kWh; overrides the region's figure. */
  carbonIntensityGPerKwh?: number;
  /** `--pue`. */
  pue?: number;
  /** The hardware profile's grid region, used when --region is absent. */
  profileRegion?: string | null;
}

/** Validates the carbon flags and resolves them into CarbonSettings with provenance. */
export function resolveCarbonSettings(flags: CarbonFlags = {}): CarbonSettings {
  const pue = flags.pue ?? DEFAULT_PUE;
  if (typeof pue !== 'number' || !Number.isFinite(pue) || pue < 1 || pue > 5) {
    throw new UserError(`--pue must be a number from 1 to 5 (facility energy / IT energy), got '${String(flags.pue)}'. Fix: pass e.g. --pue 1.2, or leave it out for 1.0.`, { subject: '--pue' });
  }
  const pueSource = flags.pue === undefined ? 'default 1.0 (device energy only, no facility overhead)' : '--pue';
  if (flags.carbonIntensityGPerKwh !== undefined) {
    const g = flags.carbonIntensityGPerKwh;
    if (typeof g !== 'number' || !Number.isFinite(g) || g < 0 || g > 2000) {
      throw new UserError(`--carbon-intensity must be grams CO2e per kWh between 0 and 2000, got '${String(g)}'. Fix: pass e.g. --carbon-intensity 350.`, { subject: '--carbon-intensity' });
    }
    return { intensityGPerKwh: g, pue, region: flags.region ? flags.region.toUpperCase() : null, intensitySource: '--carbon-intensity', intensityYear: null, pueSource };
  }
  const region = flags.region ?? flags.profileRegion ?? DEFAULT_REGION;
  const row = gridIntensityFor(region);
  return { intensityGPerKwh: row.gPerKwh, pue, region: row.region, intensitySource: row.source, intensityYear: row.year, pueSource };
}

/** Energy and carbon of one figure. */
export interface CarbonFigure {
  /** Device energy in kWh. */
  energyKwh: number;
  /** Device energy × PUE, in kWh. */
  facilityEnergyKwh: number;
  /** Grams CO2e: facility kWh × intensity. */
  carbonG: number;
}

/** Converts joules to kWh and grams CO2e. */
export function carbonFromJoules(energyJ: number, settings: CarbonSettings): CarbonFigure {
  const energyKwh = energyJ / JOULES_PER_KWH;
  const facilityEnergyKwh = energyKwh * settings.pue;
  return { energyKwh, facilityEnergyKwh, carbonG: facilityEnergyKwh * settings.intensityGPerKwh };
}

/** One ledger line: a trial (or any window) with its energy, provenance and carbon. */
export interface CarbonEntry extends CarbonFigure {
  /** Window label, e.g. `trial-12/train`. */
  label: string;
  /** Joules (0 with source `none` when not measured). */
  energyJ: number;
  /** Provenance of the joules. */
  source: EnergySource;
  /** Whether the measurement carried flags (not a clean reading). */
  flagged: boolean;
}

/** Totals over many entries, with how much of it was measured versus estimated. */
export interface CarbonTotal extends CarbonFigure {
  /** Sum of joules. */
  energyJ: number;
  /** Joules per provenance, so measured and estimated parts stay apart. */
  energyJBySource: Partial<Record<EnergySource, number>>;
  /** Entries counted. */
  entries: number;
  /** Entries with no joules (`none` meter). */
  unmeasured: number;
  /** Entries whose measurement carried flags. */
  flagged: number;
}

/** Sums carbon entries (a run's trials, or several runs' totals for the search's total). */
export function sumCarbon(entries: readonly CarbonEntry[], settings: CarbonSettings): CarbonTotal {
  const energyJBySource: Partial<Record<EnergySource, number>> = {};
  let energyJ = 0;
  let unmeasured = 0;
  let flagged = 0;
  for (const e of entries) {
    if (e.source === 'none') unmeasured++;
    else {
      energyJ += e.energyJ;
      energyJBySource[e.source] = (energyJBySource[e.source] ?? 0) + e.energyJ;
    }
    if (e.flagged) flagged++;
  }
  return { energyJ, energyJBySource, entries: entries.length, unmeasured, flagged, ...carbonFromJoules(energyJ, settings) };
}

/** Collects per-trial carbon for one run and gives the run's total; merge ledgers for the search's total. */
export class CarbonLedger {
  private readonly lines: CarbonEntry[] = [];
  constructor(readonly settings: CarbonSettings) {}

  /** Records one measurement; returns its line. */
  add(measurement: Measurement, label = measurement.label): CarbonEntry {
    const energyJ = measurement.energyJ?.total ?? 0;
    const entry: CarbonEntry = {
      label,
      energyJ,
      source: measurement.energyJ ? measurement.source : 'none',
      flagged: measurement.flags.length > 0,
      ...carbonFromJoules(energyJ, this.settings),
    };
    this.lines.push(entry);
    return entry;
  }

  /** Every line so far. */
  entries(): readonly CarbonEntry[] {
    return this.lines;
  }

  /** The total of every line so far. */
  total(): CarbonTotal {
    return sumCarbon(this.lines, this.settings);
  }
}
