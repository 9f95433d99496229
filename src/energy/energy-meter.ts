import { GreennasError } from '../core/index.js';
import {
  addJoules,
  standardFlags,
  type Attribution,
  type EnergySource,
  type Measurement,
  type MeasurementFlag,
  type MeteredDevice,
  type MeterName,
} from './measurement.js';

/** What probing a meter found: usable, or why not and how to make it usable. */
export interface MeterProbe {
  /** The meter probed. */
  meter: MeterName;
  /** Whether it can measure on this machine now. */
  available: boolean;
  /** What it found (devices, mode) when available; why not when unavailable. */
  reason: string;
  /** How to make it available (only when it is not). */
  fix?: string;
}

/**
 * Measures energy over named windows. Windows may overlap (a run window around trial windows);
 * each end(label) returns the joules since its own begin(label).
 */
export interface EnergyMeter {
  /** Which meter this is. */
  readonly name: MeterName;
  /** Says whether the meter can measure here, and why not. Never throws for "not available". */
  probe(): Promise<MeterProbe>;
  /** Opens the window `label`; a label already open is a programming error. */
  begin(label: string): Promise<void>;
  /** Closes the window `label` and returns its Measurement. */
  end(label: string): Promise<Measurement>;
  /** Labels of windows currently open. */
  openWindows(): string[];
  /** Stops background sampling and releases libraries; open windows are discarded. */
  close(): Promise<void>;
}

/** One stream of cumulative joules (a RAPL zone, a GPU) that a CumulativeMeter reads. */
export interface EnergyChannel {
  /** Key in byDomain, e.g. `package-0`, `package-0/dram`, `gpu0`. */
  domain: string;
  /** The device it belongs to. */
  device: MeteredDevice;
  /** `counter` when read from a hardware energy counter, `polled` when integrated from power. */
  mode: 'counter' | 'polled';
}

/** A sample of every channel's cumulative joules since the meter started, at one instant. */
export interface CumulativeSample {
  /** Monotonic time of the sample, in milliseconds (performance.now()). */
  atMs: number;
  /**
   * Cumulative energy per channel domain, in units of 1/unitsPerJ joule (µJ for RAPL, mJ for NVML),
   * so that differences of integer counters stay exact until the final division.
   */
  joules: Map<string, number>;
  /** How many of the units in `joules` make one joule (1e6 for µJ, 1e3 for mJ, 1 for joules). */
  unitsPerJ: number;
  /** Channel-specific evidence at this instant (raw counter values…), copied into window detail. */
  raw?: Record<string, unknown>;
}

interface OpenWindow {
  startMs: number;
  startedAt: string;
  start: CumulativeSample;
  samplesAtStart: number;
  flagsAtStart: Map<string, number>;
}

/**
 * Base for meters that keep a cumulative joule total per channel (hardware counters, or power
 * integrated by polling). Windows are differences of two samples, so any number may overlap; a
 * background timer samples while a window is open so wraps and power changes are not missed.
 */
export abstract class CumulativeMeter implements EnergyMeter {
  abstract readonly name: MeterName;
  private readonly windows = new Map<string, OpenWindow>();
  private timer: NodeJS.Timeout | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private samplesTaken = 0;
  private lastSample: CumulativeSample | undefined;
  /** Counts of per-channel trouble (resets, sparse samples) so windows can flag what happened inside them. */
  protected readonly channelTrouble = new Map<string, number>();

  constructor(protected sampleIntervalMs: number) {}

  abstract probe(): Promise<MeterProbe>;
  /** Channels measured, known after a successful probe. */
  protected abstract channels(): EnergyChannel[];
  /** Reads every channel and returns cumulative joules; called serially, never concurrently. */
  protected abstract readCumulative(): Promise<CumulativeSample>;
  /** Seconds between updates of the underlying counter or samples (for the short-window flag). */
  protected abstract updatePeriodS(): number;
  /** Called once before the first window opens; throws UserError when the meter cannot run. */
  protected abstract prepare(): Promise<void>;
  /** Meter-specific evidence for a finished window. */
  protected windowDetail(_start: CumulativeSample, _end: CumulativeSample): Record<string, unknown> {
    return {};
  }

  private prepared: Promise<void> | undefined;

  /**
   * Takes a sample now (what the background timer does while a window is open). Call it yourself
   * when driving the meter without timers, e.g. at least once per counter wrap period.
   */
  async poll(): Promise<void> {
    if (this.windows.size > 0) await this.sample();
  }

  /** Takes a sample now, serialised behind any sample already in flight. */
  protected sample(): Promise<CumulativeSample> {
    const next = this.queue.then(async () => {
      const s = await this.readCumulative();
      this.samplesTaken++;
      this.lastSample = s;
      return s;
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  async begin(label: string): Promise<void> {
    if (this.windows.has(label)) throw new GreennasError(`energy window '${label}' is already open`, 'E_ENERGY_WINDOW');
    this.prepared ??= this.prepare();
    await this.prepared;
    // Reserve the label before awaiting so a concurrent begin(label) is rejected too.
    const placeholder = {} as OpenWindow;
    this.windows.set(label, placeholder);
    try {
      const start = await this.sample();
      Object.assign(placeholder, {
        startMs: start.atMs,
        startedAt: new Date().toISOString(),
        start,
        samplesAtStart: this.samplesTaken,
        flagsAtStart: new Map(this.channelTrouble),
      });
    } catch (err) {
      this.windows.delete(label);
      throw err;
    }
    this.ensureTimer();
  }

  async end(label: string): Promise<Measurement> {
    const w = this.windows.get(label);
    if (!w || w.start === undefined) throw new GreennasError(`energy window '${label}' is not open`, 'E_ENERGY_WINDOW');
    this.windows.delete(label);
    if (this.windows.size === 0) this.stopTimer();
    const end = await this.sample();
    const durationS = (end.atMs - w.startMs) / 1000;
    const byDomain: Record<string, number> = {};
    const byDevice: Record<string, number> = {};
    const flags: MeasurementFlag[] = [];
    let total = 0;
    let polled = false;
    const excluded: string[] = [];
    for (const ch of this.channels()) {
      const a = w.start.joules.get(ch.domain);
      const b = end.joules.get(ch.domain);
      if (a === undefined || b === undefined) continue;
      const resetsInside = (this.channelTrouble.get(`reset:${ch.domain}`) ?? 0) - (w.flagsAtStart.get(`reset:${ch.domain}`) ?? 0);
      if (resetsInside > 0) {
        excluded.push(ch.domain);
        if (!flags.includes('counter-reset')) flags.push('counter-reset');
        continue;
      }
      const sparse = (this.channelTrouble.get(`sparse:${ch.domain}`) ?? 0) - (w.flagsAtStart.get(`sparse:${ch.domain}`) ?? 0);
      if (sparse > 0 && !flags.includes('sparse-samples')) flags.push('sparse-samples');
      const j = (b - a) / end.unitsPerJ;
      byDomain[ch.domain] = j;
      addJoules(byDevice, ch.device.id, j);
      total += j;
      if (ch.mode === 'polled') polled = true;
    }
    const source: EnergySource = polled ? 'polled' : 'counter';
    const devices = uniqueDevices(this.channels().map((c) => c.device));
    const attribution: Attribution = { method: 'whole-device', share: 1 };
    return {
      label,
      durationS,
      energyJ: { total, byDomain, byDevice },
      source,
      meter: this.name,
      devices,
      flags: [...standardFlags(total, durationS, this.updatePeriodS()), ...flags],
      attribution,
      startedAt: w.startedAt,
      detail: {
        samples: this.samplesTaken - w.samplesAtStart + 1,
        updatePeriodS: this.updatePeriodS(),
        ...(excluded.length ? { excludedDomains: excluded } : {}),
        ...this.windowDetail(w.start, end),
      },
    };
  }

  openWindows(): string[] {
    return [...this.windows.keys()];
  }

  async close(): Promise<void> {
    this.windows.clear();
    this.stopTimer();
    await this.queue;
    await this.release();
  }

  /** Releases libraries or handles; default nothing. */
  protected async release(): Promise<void> {}

  /** The most recent sample, if any (for subclasses integrating power). */
  protected previousSample(): CumulativeSample | undefined {
    return this.lastSample;
  }

  private ensureTimer(): void {
    if (this.timer || this.sampleIntervalMs <= 0) return;
    this.timer = setInterval(() => {
      // Background samples only track wraps and power; a failure shows up at end() instead.
      this.sample().catch(() => undefined);
    }, this.sampleIntervalMs);
    this.timer.unref();
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

function uniqueDevices(devices: MeteredDevice[]): MeteredDevice[] {
  const seen = new Map<string, MeteredDevice>();
  for (const d of devices) if (!seen.has(d.id)) seen.set(d.id, d);
  return [...seen.values()];
}
