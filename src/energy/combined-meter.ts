import { GreennasError } from '../core/index.js';
import type { EnergyMeter, MeterProbe } from './energy-meter.js';
import { weakestSource, type Measurement, type MeasurementFlag } from './measurement.js';

/**
 * GPU and CPU counters together (`nvml+rapl`): a GPU trial also burns CPU package and DRAM energy, and
 * leaving it out under-reports. Windows open and close on both; the figure's source is the weakest
 * of the parts (a polled GPU makes the sum `polled`), and each part's evidence is kept.
 */
export class CombinedMeter implements EnergyMeter {
  readonly name = 'nvml+rapl' as const;

  constructor(private readonly parts: readonly EnergyMeter[]) {
    if (parts.length < 2) throw new GreennasError('CombinedMeter needs at least two meters', 'E_ENERGY_METER');
  }

  async probe(): Promise<MeterProbe> {
    const probes = await Promise.all(this.parts.map((p) => p.probe()));
    const missing = probes.find((p) => !p.available);
    if (missing) return { meter: this.name, available: false, reason: `${missing.meter}: ${missing.reason}`, fix: missing.fix };
    return { meter: this.name, available: true, reason: probes.map((p) => `${p.meter}: ${p.reason}`).join('; ') };
  }

  async begin(label: string): Promise<void> {
    const begun: EnergyMeter[] = [];
    try {
      for (const p of this.parts) {
        await p.begin(label);
        begun.push(p);
      }
    } catch (err) {
      for (const p of begun) await p.end(label).catch(() => undefined);
      throw err;
    }
  }

  async end(label: string): Promise<Measurement> {
    const ms: Measurement[] = [];
    let failure: unknown;
    for (const p of this.parts) {
      // Close every part even if one fails, so no window is left open.
      try {
        ms.push(await p.end(label));
      } catch (err) {
        failure ??= err;
      }
    }
    if (failure !== undefined) throw failure;
    const byDomain: Record<string, number> = {};
    const byDevice: Record<string, number> = {};
    let total = 0;
    const flags: MeasurementFlag[] = [];
    for (const m of ms) {
      if (!m.energyJ) throw new GreennasError(`meter ${m.meter} returned no joules inside ${this.name}`, 'E_ENERGY_METER');
      total += m.energyJ.total;
      for (const [k, v] of Object.entries(m.energyJ.byDomain)) byDomain[k in byDomain ? `${m.meter}:${k}` : k] = v;
      for (const [k, v] of Object.entries(m.energyJ.byDevice)) byDevice[k in byDevice ? `${m.meter}:${k}` : k] = v;
      for (const f of m.flags) if (!flags.includes(f)) flags.push(f);
    }
    const first = ms[0] as Measurement;
    return {
      label,
      durationS: Math.max(...ms.map((m) => m.durationS)),
      energyJ: { total, byDomain, byDevice },
      source: weakestSource(ms.map((m) => m.source)),
      meter: this.name,
      devices: ms.flatMap((m) => m.devices),
      flags,
      attribution: { method: 'whole-device', share: 1 },
      startedAt: first.startedAt,
      detail: Object.fromEntries(ms.map((m) => [m.meter, { source: m.source, durationS: m.durationS, totalJ: m.energyJ?.total, ...m.detail }])),
    };
  }

  openWindows(): string[] {
    return this.parts[0]?.openWindows() ?? [];
  }

  async close(): Promise<void> {
    for (const p of this.parts) await p.close();
  }
}
