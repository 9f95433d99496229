import { UserError } from '../core/index.js';
import { resolveCarbonSettings, type CarbonSettings } from './carbon.js';
import type { CpuTimeSource } from './cpu-time.js';
import type { EnergyMeter, MeterProbe } from './energy-meter.js';
import {
  defaultProfilesDir,
  loadHardwareProfiles,
  readMachineFacts,
  resolveHardwareProfile,
  type HardwareProfile,
  type ProfileChoice,
} from './hardware-profile.js';
import { METER_CHOICES, selectMeter, type MeterChoice, type MeterSelectionOptions } from './select-meter.js';

/** The energy-related flags a command takes (`greennas meter`, and the search's). */
export interface EnergyFlags {
  /** `--meter` (default auto). */
  meter?: string;
  /** `--powercap-root`. */
  powercapRoot?: string;
  /** `--profile`. */
  profile?: string;
  /** `--profiles-dir`. */
  profilesDir?: string;
  /** `--region`. */
  region?: string;
  /** `--carbon-intensity`, g CO2e per kWh. */
  carbonIntensityGPerKwh?: number;
  /** `--pue`. */
  pue?: number;
  /** `--sample-interval-ms`. */
  sampleIntervalMs?: number;
  /** Whose CPU time the estimate meter models (default: this process). */
  cpuTime?: CpuTimeSource;
  /** Test hooks for the NVML meter. */
  nvml?: MeterSelectionOptions['nvml'];
}

/** Everything a run needs for energy and carbon, validated, with the probing record. */
export interface EnergySetup {
  /** The meter to open windows on. */
  meter: EnergyMeter;
  /** What probing found for each meter considered. */
  probes: MeterProbe[];
  /** The hardware profile in use. */
  profile: HardwareProfile;
  /** How the profile was chosen. */
  profileChosenBy: ProfileChoice;
  /** Carbon intensity and PUE with provenance. */
  carbon: CarbonSettings;
}

/**
 * Validates every energy flag (so a bad one fails before any training starts) and picks the meter.
 * Throws UserError naming the flag and the fix; a forced meter that is unavailable is an error.
 */
export async function resolveEnergySetup(flags: EnergyFlags): Promise<EnergySetup> {
  const meterChoice = flags.meter ?? 'auto';
  if (!(METER_CHOICES as readonly string[]).includes(meterChoice)) {
    throw new UserError(`--meter '${meterChoice}' is not a meter. Fix: pass one of ${METER_CHOICES.join(', ')}.`, { subject: '--meter' });
  }
  if (flags.sampleIntervalMs !== undefined && (!Number.isInteger(flags.sampleIntervalMs) || flags.sampleIntervalMs <= 0)) {
    throw new UserError(`--sample-interval-ms must be a positive whole number of milliseconds, got '${String(flags.sampleIntervalMs)}'. Fix: pass e.g. --sample-interval-ms 100.`, { subject: '--sample-interval-ms' });
  }
  const profiles = loadHardwareProfiles(flags.profilesDir ?? defaultProfilesDir());
  const { profile, chosenBy } = resolveHardwareProfile(profiles, flags.profile, readMachineFacts());
  const carbon = resolveCarbonSettings({ region: flags.region, carbonIntensityGPerKwh: flags.carbonIntensityGPerKwh, pue: flags.pue, profileRegion: profile.gridRegion });
  const { meter, probes } = await selectMeter({
    meter: meterChoice as MeterChoice,
    profile,
    powercapRoot: flags.powercapRoot,
    sampleIntervalMs: flags.sampleIntervalMs,
    cpuTime: flags.cpuTime,
    nvml: flags.nvml,
  });
  return { meter, probes, profile, profileChosenBy: chosenBy, carbon };
}
