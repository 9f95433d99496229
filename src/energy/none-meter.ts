import { performance } from 'node:perf_hooks';
import { GreennasError } from '../core/index.js';
import type { EnergyMeter, MeterProbe } from './energy-meter.js';
import type { Measurement } from './measurement.js';

/**
 * Measures nothing: windows report their duration and `energyJ: null` with source `none`, so a run
 * without a meter stores "not measured" rather than a silent 0 J.
 */
export class NoneMeter implements EnergyMeter {
  readonly name = 'none' as const;
  private readonly windows = new Map<string, { startMs: number; startedAt: string }>();

  async probe(): Promise<MeterProbe> {
    return { meter: 'none', available: true, reason: 'always available; records durations only, no joules' };
  }

  async begin(label: string): Promise<void> {
    if (this.windows.has(label)) throw new GreennasError(`energy window '${label}' is already open`, 'E_ENERGY_WINDOW');
    this.windows.set(label, { startMs: performance.now(), startedAt: new Date().toISOString() });
  }

  async end(label: string): Promise<Measurement> {
    const w = this.windows.get(label);
    if (!w) throw new GreennasError(`energy window '${label}' is not open`, 'E_ENERGY_WINDOW');
    this.windows.delete(label);
    return {
      label,
      durationS: (performance.now() - w.startMs) / 1000,
      energyJ: null,
      source: 'none',
      meter: 'none',
      devices: [],
      flags: [],
      attribution: { method: 'whole-device', share: 1 },
      startedAt: w.startedAt,
      detail: {},
    };
  }

  openWindows(): string[] {
    return [...this.windows.keys()];
  }

  async close(): Promise<void> {
    this.windows.clear();
  }
}
