import { performance } from 'node:perf_hooks';
import { GreennasError, UserError } from '../core/index.js';
import type { EnergyMeter, MeterProbe } from './energy-meter.js';
import type { HardwareProfile } from './hardware-profile.js';
import { standardFlags, type Measurement } from './measurement.js';
import { processCpuTime, type CpuTimeSource } from './cpu-time.js';

/** CPU time is accounted in clock ticks (10 ms); shorter windows are flagged. */
export const ESTIMATE_UPDATE_PERIOD_S = 0.01;

/** Options for an EstimateMeter. */
export interface EstimateMeterOptions {
  /** The hardware profile whose idle and max watts model the device. */
  profile: HardwareProfile;
  /** Whose CPU time drives the active part (default: this process, all threads). */
  cpuTime?: CpuTimeSource;
  /** Monotonic clock in milliseconds (tests). */
  now?: () => number;
}

interface OpenWindow {
  startMs: number;
  startCpuS: number;
  startedAt: string;
}

/**
 * Estimates energy from a hardware profile and measured CPU time, with a linear power model:
 * P = idleW + (maxW − idleW) × utilisation, utilisation = CPU seconds / (window × logical CPUs).
 * So E = idleW × window + (maxW − idleW) × CPU seconds / logical CPUs. Labelled `estimated` and never
 * shown as measured; both parts are stored (`idle`, `active`) so a reader can drop the idle share.
 */
export class EstimateMeter implements EnergyMeter {
  readonly name = 'estimate' as const;
  readonly profile: HardwareProfile;
  private readonly cpuTime: CpuTimeSource;
  private readonly now: () => number;
  private readonly windows = new Map<string, OpenWindow>();

  constructor(options: EstimateMeterOptions) {
    this.profile = options.profile;
    this.cpuTime = options.cpuTime ?? processCpuTime;
    this.now = options.now ?? (() => performance.now());
  }

  private probed: Promise<MeterProbe> | undefined;

  probe(): Promise<MeterProbe> {
    this.probed ??= this.doProbe();
    return this.probed;
  }

  private async doProbe(): Promise<MeterProbe> {
    const p = this.profile;
    if (p.kind === 'gpu' || !p.logicalCpus) {
      return {
        meter: 'estimate', available: false,
        reason: `profile '${p.id}' describes a ${p.kind}; the estimate meter models CPU load from CPU time and needs a CPU profile with logicalCpus`,
        fix: 'pass --profile with a CPU profile (see greennas profiles), or --meter nvml on an NVIDIA machine',
      };
    }
    try {
      this.cpuTime.cpuSeconds();
    } catch (err) {
      return { meter: 'estimate', available: false, reason: `cannot read ${this.cpuTime.name} CPU time: ${(err as Error).message}`, fix: 'use --meter none, or run on Linux' };
    }
    return { meter: 'estimate', available: true, reason: `profile ${p.id} (idle ${p.idleW.value} W, max ${p.maxW.value} W over ${p.logicalCpus.value} logical CPUs) × ${this.cpuTime.name} CPU time` };
  }

  async begin(label: string): Promise<void> {
    if (this.windows.has(label)) throw new GreennasError(`energy window '${label}' is already open`, 'E_ENERGY_WINDOW');
    const probe = await this.probe();
    if (!probe.available) throw new UserError(`--meter estimate is not available: ${probe.reason}. Fix: ${probe.fix}.`, { subject: '--profile' });
    this.windows.set(label, { startMs: this.now(), startCpuS: this.cpuTime.cpuSeconds(), startedAt: new Date().toISOString() });
  }

  async end(label: string): Promise<Measurement> {
    const w = this.windows.get(label);
    if (!w) throw new GreennasError(`energy window '${label}' is not open`, 'E_ENERGY_WINDOW');
    this.windows.delete(label);
    const cpuS = Math.max(0, this.cpuTime.cpuSeconds() - w.startCpuS);
    const durationS = (this.now() - w.startMs) / 1000;
    const p = this.profile;
    const cpus = p.logicalCpus?.value ?? 1;
    // CPU time cannot exceed window × CPUs; clock-tick rounding can push it slightly past.
    const busyCpuS = Math.min(cpuS, durationS * cpus);
    const idleJ = p.idleW.value * durationS;
    const activeJ = ((p.maxW.value - p.idleW.value) * busyCpuS) / cpus;
    const total = idleJ + activeJ;
    return {
      label,
      durationS,
      energyJ: { total, byDomain: { idle: idleJ, active: activeJ }, byDevice: { [p.id]: total } },
      source: 'estimated',
      meter: 'estimate',
      devices: [{ id: p.id, name: p.name, kind: 'profile' }],
      flags: standardFlags(total, durationS, ESTIMATE_UPDATE_PERIOD_S),
      attribution: {
        method: 'process-cpu-time',
        share: 1,
        detail: { cpuTimeSource: this.cpuTime.name, cpuS, logicalCpus: cpus, utilisation: durationS > 0 ? busyCpuS / (durationS * cpus) : 0 },
      },
      startedAt: w.startedAt,
      detail: {
        model: 'idleW*durationS + (maxW-idleW)*cpuS/logicalCpus',
        profile: p.id,
        idleW: p.idleW.value,
        maxW: p.maxW.value,
        idleWSource: p.idleW.source,
        maxWSource: p.maxW.source,
        updatePeriodS: ESTIMATE_UPDATE_PERIOD_S,
      },
    };
  }

  openWindows(): string[] {
    return [...this.windows.keys()];
  }

  async close(): Promise<void> {
    this.windows.clear();
  }
}
