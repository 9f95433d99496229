import type { Measurement } from './measurement.js';

function scaled(m: Measurement, share: number): Measurement['energyJ'] {
  if (!m.energyJ) return null;
  const scale = (r: Record<string, number>) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v * share]));
  return { total: m.energyJ.total * share, byDomain: scale(m.energyJ.byDomain), byDevice: scale(m.energyJ.byDevice) };
}

/**
 * Splits one device-wide measurement among workers that shared the device during the window, by
 * each worker's CPU seconds in that window (`cpu-time-share`). When no worker used measurable CPU
 * time the split is equal (`equal-share`), and the method says so. Shares sum to 1.
 */
export function attributeByCpuTime(measurement: Measurement, cpuSByWorker: Readonly<Record<string, number>>): Record<string, Measurement> {
  const workers = Object.keys(cpuSByWorker);
  if (workers.length === 0) return {};
  for (const [w, s] of Object.entries(cpuSByWorker)) {
    if (!Number.isFinite(s) || s < 0) throw new RangeError(`CPU seconds for worker '${w}' must be a finite number >= 0, got ${s}`);
  }
  const totalCpuS = Object.values(cpuSByWorker).reduce((a, b) => a + b, 0);
  const out: Record<string, Measurement> = {};
  for (const w of workers) {
    const cpuS = cpuSByWorker[w] as number;
    const equal = totalCpuS === 0;
    const share = equal ? 1 / workers.length : cpuS / totalCpuS;
    out[w] = {
      ...measurement,
      energyJ: scaled(measurement, share),
      attribution: {
        method: equal ? 'equal-share' : 'cpu-time-share',
        share,
        detail: { worker: w, cpuS, totalCpuS, workers: workers.length, deviceTotalJ: measurement.energyJ?.total ?? null, before: measurement.attribution.method },
      },
    };
  }
  return out;
}
