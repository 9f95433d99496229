import { UserError } from '../core/index.js';
import type { EnergyMeter, MeterProbe } from './energy-meter.js';
import { CombinedMeter } from './combined-meter.js';
import { EstimateMeter } from './estimate-meter.js';
import type { CpuTimeSource } from './cpu-time.js';
import type { HardwareProfile } from './hardware-profile.js';
import type { MeterName } from './measurement.js';
import { NoneMeter } from './none-meter.js';
import { NvmlMeter, type NvmlMeterOptions } from './nvml-meter.js';
import { RaplMeter, type PowercapFs } from './rapl-meter.js';

/** Every meter name `--meter` accepts; `auto` probes and picks the best available. */
export const METER_CHOICES = ['auto', 'nvml+rapl', 'nvml', 'rapl', 'estimate', 'none'] as const;

/** A `--meter` value. */
export type MeterChoice = (typeof METER_CHOICES)[number];

/**
 * Best first: measured GPU counters, measured CPU counters, the estimate, then nothing. When both
 * nvml and rapl are available, auto uses them together (`nvml+rapl`).
 */
export const AUTO_METER_ORDER: readonly MeterName[] = ['nvml', 'rapl', 'estimate', 'none'];

/** What selectMeter needs to build and probe meters. */
export interface MeterSelectionOptions {
  /** `--meter`; default `auto`. */
  meter?: MeterChoice;
  /** Profile for the estimate meter. */
  profile: HardwareProfile;
  /** `--powercap-root`. */
  powercapRoot?: string;
  /** Background sampling / polling period in ms (default per meter). */
  sampleIntervalMs?: number;
  /** CPU time the estimate meter models (default: this process). */
  cpuTime?: CpuTimeSource;
  /** NVML meter dependencies (tests inject recorded answers). */
  nvml?: Omit<NvmlMeterOptions, 'sampleIntervalMs'>;
  /** Powercap file access (tests). */
  powercapFs?: PowercapFs;
}

/** The chosen meter and what probing found for every meter considered. */
export interface MeterSelection {
  /** The meter to use. */
  meter: EnergyMeter;
  /** One probe per meter considered, in order; unavailable ones say why. */
  probes: MeterProbe[];
}

/** Builds one meter by name (not probed). */
export function createMeter(name: MeterName, options: MeterSelectionOptions): EnergyMeter {
  switch (name) {
    case 'rapl': return new RaplMeter({ powercapRoot: options.powercapRoot, sampleIntervalMs: options.sampleIntervalMs, fs: options.powercapFs });
    case 'nvml': return new NvmlMeter({ ...options.nvml, sampleIntervalMs: options.sampleIntervalMs });
    case 'nvml+rapl': return new CombinedMeter([createMeter('nvml', options), createMeter('rapl', options)]);
    case 'estimate': return new EstimateMeter({ profile: options.profile, cpuTime: options.cpuTime });
    case 'none': return new NoneMeter();
  }
}

/**
 * Picks the meter. A forced meter (`--meter NAME`) that is unavailable is a UserError with the reason
 * and the fix, never a silent fallback. `auto` probes in AUTO_METER_ORDER and takes the first
 * available, reporting why each better one was not.
 */
export async function selectMeter(options: MeterSelectionOptions): Promise<MeterSelection> {
  const choice = options.meter ?? 'auto';
  if (!(METER_CHOICES as readonly string[]).includes(choice)) {
    throw new UserError(`--meter '${String(choice)}' is not a meter. Fix: pass one of ${METER_CHOICES.join(', ')}.`, { subject: '--meter' });
  }
  if (choice !== 'auto') {
    const meter = createMeter(choice, options);
    const probe = await meter.probe();
    if (!probe.available) {
      await meter.close();
      throw new UserError(`--meter ${choice} is not available: ${probe.reason}. Fix: ${probe.fix ?? 'pass another --meter'}.`, { subject: '--meter' });
    }
    return { meter, probes: [probe] };
  }
  const probes: MeterProbe[] = [];
  const counters: EnergyMeter[] = [];
  for (const name of AUTO_METER_ORDER) {
    // The estimate and none are fallbacks only: not even probed once a counter meter is available.
    if ((name === 'estimate' || name === 'none') && counters.length > 0) break;
    const meter = createMeter(name, options);
    const probe = await meter.probe();
    probes.push(probe);
    if (!probe.available) {
      await meter.close();
      continue;
    }
    // Counter meters accumulate (GPU and CPU together); the estimate and none are only fallbacks.
    if (name === 'nvml' || name === 'rapl') {
      counters.push(meter);
      continue;
    }
    return { meter, probes };
  }
  if (counters.length === 1) return { meter: counters[0] as EnergyMeter, probes };
  if (counters.length > 1) return { meter: new CombinedMeter(counters), probes };
  // Unreachable: the none meter is always available.
  throw new Error('no meter available, not even none');
}
