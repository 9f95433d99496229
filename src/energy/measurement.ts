import type { MetricValue } from '../core/index.js';

/**
 * Where an energy figure came from: a hardware energy `counter` (RAPL, NVML total energy), `polled`
 * power integrated over time, `estimated` from a hardware profile and CPU time, or `none` (not measured).
 */
export type EnergySource = 'counter' | 'polled' | 'estimated' | 'none';

const SOURCE_RANK: Record<EnergySource, number> = { counter: 0, polled: 1, estimated: 2, none: 3 };

/** The least direct of some energy sources (counter, then polled, estimated, none): what a sum of their figures can claim. */
export function weakestSource(sources: readonly EnergySource[]): EnergySource {
  return sources.reduce<EnergySource>((weakest, s) => (SOURCE_RANK[s] > SOURCE_RANK[weakest] ? s : weakest), 'counter');
}

/** The meters greennas ships (`nvml+rapl` reads both GPU and CPU counters); `auto` lets probing choose. */
export type MeterName = 'rapl' | 'nvml' | 'nvml+rapl' | 'estimate' | 'none';

/** A reason a measurement is not a clean reading; stored with the figure, never silently dropped. */
export type MeasurementFlag =
  /** The counters did not move: either nothing ran or the meter cannot see the work. */
  | 'zero-reading'
  /** The window was shorter than the meter's update period, so the figure is mostly quantisation. */
  | 'window-shorter-than-update-period'
  /** A counter went backwards by more than its wrap range allows (driver reload?); that device is excluded. */
  | 'counter-reset'
  /** Polling could not keep up (gaps longer than three intervals), so the integral is coarse. */
  | 'sparse-samples';

/** How a shared figure was split between workers or processes. */
export interface Attribution {
  /**
   * `whole-device`: the figure is the device's total in the window (nothing split);
   * `cpu-time-share`: device total × this worker's CPU time / all workers' CPU time;
   * `equal-share`: device total ÷ number of workers (used only when CPU times are unknown);
   * `process-cpu-time`: modelled from this process's (and its children's) own CPU time.
   */
  method: 'whole-device' | 'cpu-time-share' | 'equal-share' | 'process-cpu-time';
  /** Fraction of the device figure attributed (1 for whole-device). */
  share: number;
  /** Free-form detail of the split (CPU seconds used, worker ids…). */
  detail?: Record<string, unknown>;
}

/** Joules in one window, split by domain (RAPL package/dram, estimate idle/active) and device (GPU UUID). */
export interface EnergyBreakdown {
  /** Sum of every counted domain/device, in joules. */
  total: number;
  /** Joules per domain, e.g. `package-0`, `package-0/dram`, `idle`, `active`. */
  byDomain: Record<string, number>;
  /** Joules per device, e.g. `GPU-8f3e…`, `cpu`. */
  byDevice: Record<string, number>;
}

/** One device a meter covered (a CPU package, a GPU). */
export interface MeteredDevice {
  /** Stable id: RAPL zone path name, GPU UUID, or the hardware profile id for estimates. */
  id: string;
  /** Human name, e.g. `package-0`, `NVIDIA H100 80GB HBM3`. */
  name: string;
  /** `cpu-package`, `dram`, `gpu`, `profile`. */
  kind: string;
}

/** The result of one measurement window, with everything needed to judge it later. */
export interface Measurement {
  /** The label given to begin()/end(). */
  label: string;
  /** Wall-clock length of the window in seconds. */
  durationS: number;
  /** Joules, or null when the `none` meter ran (nothing was measured). */
  energyJ: EnergyBreakdown | null;
  /** Provenance of the joules. */
  source: EnergySource;
  /** Which meter produced it. */
  meter: MeterName;
  /** Devices the figure covers. */
  devices: MeteredDevice[];
  /** Reasons this is not a clean reading; empty when it is. */
  flags: MeasurementFlag[];
  /** How the figure relates to the work measured. */
  attribution: Attribution;
  /** Wall-clock start of the window (ISO 8601). */
  startedAt: string;
  /** Meter-specific evidence: raw counter readings, sample counts, the profile used. */
  detail: Record<string, unknown>;
}

/** True when a measurement has no flags and carries joules: safe to show as a plain figure. */
export function isCleanMeasurement(m: Measurement): boolean {
  return m.energyJ !== null && m.flags.length === 0;
}

/** Sums per-key joules, for building EnergyBreakdowns. */
export function addJoules(into: Record<string, number>, key: string, joules: number): void {
  into[key] = (into[key] ?? 0) + joules;
}

/** Builds the flags every meter applies: a zero reading, a window below the update period. */
export function standardFlags(totalJ: number | null, durationS: number, updatePeriodS: number): MeasurementFlag[] {
  const flags: MeasurementFlag[] = [];
  if (totalJ !== null && totalJ === 0) flags.push('zero-reading');
  if (durationS < updatePeriodS) flags.push('window-shorter-than-update-period');
  return flags;
}

/**
 * Converts a Measurement into the MetricValue a trial stores (`energy` in joules by default), keeping
 * source, meter, window, devices, flags and attribution as provenance. Returns null for `none`.
 */
export function measurementToMetric(m: Measurement, name = 'energy'): MetricValue | null {
  if (m.energyJ === null || m.source === 'none') return null;
  return {
    name,
    value: m.energyJ.total,
    unit: 'J',
    source: m.source,
    detail: {
      meter: m.meter,
      durationS: m.durationS,
      devices: m.devices,
      flags: m.flags,
      attribution: m.attribution,
      byDomain: m.energyJ.byDomain,
      byDevice: m.energyJ.byDevice,
    },
  };
}
