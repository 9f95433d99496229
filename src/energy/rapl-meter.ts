import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { UserError } from '../core/index.js';
import { CumulativeMeter, type CumulativeSample, type EnergyChannel, type MeterProbe } from './energy-meter.js';

/** Where Linux exposes RAPL energy counters. */
export const DEFAULT_POWERCAP_ROOT = '/sys/class/powercap';

/** RAPL counters update about every millisecond (Intel SDM: the energy status MSRs refresh at ~1 kHz). */
export const RAPL_UPDATE_PERIOD_S = 0.001;

/**
 * How often the RAPL meter samples while a window is open. The 32-bit counters wrap after
 * max_energy_range_uj (about 262 kJ on Intel server parts, minutes at full load); sampling well
 * inside one wrap period lets any number of wraps be counted exactly.
 */
export const DEFAULT_RAPL_SAMPLE_INTERVAL_MS = 1000;

/** File access the RAPL meter needs; injectable so tests can fake permission errors. */
export interface PowercapFs {
  /** Names in a folder. */
  readdir(path: string): string[];
  /** A file's text. */
  readFile(path: string): string;
}

/** Reads the real file system. */
export const nodePowercapFs: PowercapFs = {
  readdir: (p) => readdirSync(p),
  readFile: (p) => readFileSync(p, 'utf8'),
};

/** One RAPL domain the meter reads: a CPU package or the DRAM under it. */
export interface RaplZone {
  /** Folder name relative to the powercap root, e.g. `intel-rapl:0` or `intel-rapl:0/intel-rapl:0:2`. */
  path: string;
  /** Contents of the zone's `name` file, e.g. `package-0`, `dram`. */
  name: string;
  /** Key in Measurement.energyJ.byDomain, e.g. `package-0`, `package-0/dram`. */
  domain: string;
  /** `cpu-package` or `dram`. */
  kind: 'cpu-package' | 'dram';
  /** The package this zone belongs to (device id), e.g. `package-0`. */
  packageName: string;
  /** Counter range from `max_energy_range_uj`: readings run 0..max and then wrap to 0. */
  maxEnergyRangeUj: number;
}

const PACKAGE_DIR = /^(intel-rapl|amd-rapl):\d+$/;
const SUBZONE_DIR = /^(intel-rapl|amd-rapl):\d+:\d+$/;

/** Why a powercap tree cannot be read, with the fix; thrown by discovery and reads. */
export class PowercapAccessError extends Error {
  constructor(message: string, readonly fix: string) {
    super(message);
    this.name = 'PowercapAccessError';
  }
}

function errnoCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
}

function permissionFix(root: string): string {
  return `run greennas as root, or allow reading until the next reboot with 'sudo chmod a+r ${root}/intel-rapl:*/energy_uj ${root}/intel-rapl:*/*/energy_uj' (Linux 5.10+ makes energy_uj root-only because of CVE-2020-8694), or pass --meter estimate`;
}

function readText(fs: PowercapFs, root: string, rel: string): string {
  const full = join(root, rel);
  try {
    return fs.readFile(full).trim();
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'EACCES' || code === 'EPERM') {
      throw new PowercapAccessError(`cannot read ${full}: permission denied`, permissionFix(root));
    }
    throw new PowercapAccessError(`cannot read ${full}: ${code ?? (err as Error).message}`,
      `check that --powercap-root ${root} is a powercap tree (intel-rapl:N/energy_uj files), or pass --meter estimate`);
  }
}

function readMicrojoules(fs: PowercapFs, root: string, rel: string): number {
  const text = readText(fs, root, rel);
  if (!/^\d+$/.test(text)) {
    throw new PowercapAccessError(`${join(root, rel)} holds '${text.slice(0, 40)}', not a whole number of microjoules`,
      `check that --powercap-root ${root} is a powercap tree, or pass --meter estimate`);
  }
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new PowercapAccessError(`${join(root, rel)} value ${text} is out of range`, 'pass --meter estimate');
  return n;
}

/**
 * Finds the package and DRAM zones under a powercap root (`intel-rapl:N` and AMD's `amd-rapl:N`,
 * with `intel-rapl:N:M` subzones named `dram`). `core`, `uncore` and `psys` are skipped: the first two
 * lie inside the package figure and psys covers the package again, so adding them would double count.
 */
export function discoverRaplZones(root: string, fs: PowercapFs = nodePowercapFs): { zones: RaplZone[]; skipped: string[] } {
  let entries: string[];
  try {
    entries = fs.readdir(root);
  } catch (err) {
    const code = errnoCode(err);
    throw new PowercapAccessError(
      code === 'ENOENT' ? `${root} does not exist (no powercap/RAPL driver, e.g. in a VM or on non-Linux)`
        : code === 'EACCES' ? `cannot list ${root}: permission denied` : `cannot list ${root}: ${code ?? (err as Error).message}`,
      code === 'EACCES' ? permissionFix(root) : `point --powercap-root at a folder with intel-rapl:N zones, or pass --meter estimate`,
    );
  }
  const zones: RaplZone[] = [];
  const skipped: string[] = [];
  for (const dir of entries.filter((e) => PACKAGE_DIR.test(e)).sort(byZoneIndex)) {
    const name = readText(fs, root, join(dir, 'name'));
    if (!/^package-\d+$/.test(name)) {
      skipped.push(`${dir} (${name})`);
      continue;
    }
    zones.push({ path: dir, name, domain: name, kind: 'cpu-package', packageName: name, maxEnergyRangeUj: readMicrojoules(fs, root, join(dir, 'max_energy_range_uj')) });
    let subs: string[] = [];
    try {
      subs = fs.readdir(join(root, dir)).filter((e) => SUBZONE_DIR.test(e)).sort(byZoneIndex);
    } catch {
      subs = [];
    }
    for (const sub of subs) {
      const rel = join(dir, sub);
      const subName = readText(fs, root, join(rel, 'name'));
      if (subName !== 'dram') {
        skipped.push(`${rel} (${subName})`);
        continue;
      }
      zones.push({ path: rel, name: subName, domain: `${name}/dram`, kind: 'dram', packageName: name, maxEnergyRangeUj: readMicrojoules(fs, root, join(rel, 'max_energy_range_uj')) });
    }
  }
  if (zones.length === 0) {
    throw new PowercapAccessError(`no RAPL package zones (intel-rapl:N or amd-rapl:N with name package-N) under ${root}`,
      `point --powercap-root at the powercap folder (default ${DEFAULT_POWERCAP_ROOT}), load the intel_rapl_msr / amd rapl driver, or pass --meter estimate`);
  }
  return { zones, skipped };
}

function byZoneIndex(a: string, b: string): number {
  const na = a.split(':').slice(1).map(Number);
  const nb = b.split(':').slice(1).map(Number);
  for (let i = 0; i < Math.max(na.length, nb.length); i++) {
    const d = (na[i] ?? -1) - (nb[i] ?? -1);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * Microjoules a counter advanced from `previousUj` to `currentUj`, given that it counts 0..maxUj and then
 * wraps to 0 (so one wrap spans maxUj + 1). Assumes at most one wrap since the previous read, which the
 * background sampling guarantees.
 */
export function counterDeltaUj(previousUj: number, currentUj: number, maxUj: number): number {
  return currentUj >= previousUj ? currentUj - previousUj : maxUj + 1 - previousUj + currentUj;
}

interface ZoneState {
  zone: RaplZone;
  lastRawUj: number;
  accumulatedUj: number;
  wraps: number;
}

/** Options for a RaplMeter. */
export interface RaplMeterOptions {
  /** Powercap folder (the `--powercap-root` flag). */
  powercapRoot?: string;
  /** Background sampling period while a window is open, in milliseconds. */
  sampleIntervalMs?: number;
  /** File access (tests inject failures). */
  fs?: PowercapFs;
  /** Monotonic clock in milliseconds (tests). */
  now?: () => number;
}

/** Energy from Linux powercap RAPL counters: CPU packages and their DRAM, wraparound handled. */
export class RaplMeter extends CumulativeMeter {
  readonly name = 'rapl' as const;
  readonly powercapRoot: string;
  private readonly fs: PowercapFs;
  private states: ZoneState[] = [];
  private skipped: string[] = [];

  constructor(options: RaplMeterOptions = {}) {
    super(options.sampleIntervalMs ?? DEFAULT_RAPL_SAMPLE_INTERVAL_MS);
    this.powercapRoot = options.powercapRoot ?? DEFAULT_POWERCAP_ROOT;
    this.fs = options.fs ?? nodePowercapFs;
    this.now = options.now ?? (() => performance.now());
  }

  private readonly now: () => number;

  async probe(): Promise<MeterProbe> {
    try {
      const { zones } = discoverRaplZones(this.powercapRoot, this.fs);
      for (const z of zones) readMicrojoules(this.fs, this.powercapRoot, join(z.path, 'energy_uj'));
      return { meter: 'rapl', available: true, reason: `RAPL counters under ${this.powercapRoot}: ${zones.map((z) => z.domain).join(', ')}` };
    } catch (err) {
      if (err instanceof PowercapAccessError) return { meter: 'rapl', available: false, reason: err.message, fix: err.fix };
      throw err;
    }
  }

  /** Zones found by the first window (empty before). */
  zones(): RaplZone[] {
    return this.states.map((s) => s.zone);
  }

  protected async prepare(): Promise<void> {
    try {
      const { zones, skipped } = discoverRaplZones(this.powercapRoot, this.fs);
      this.skipped = skipped;
      this.states = zones.map((zone) => ({
        zone,
        lastRawUj: readMicrojoules(this.fs, this.powercapRoot, join(zone.path, 'energy_uj')),
        accumulatedUj: 0,
        wraps: 0,
      }));
    } catch (err) {
      if (err instanceof PowercapAccessError) {
        throw new UserError(`--meter rapl cannot read RAPL counters: ${err.message}. Fix: ${err.fix}.`, { subject: '--powercap-root' });
      }
      throw err;
    }
  }

  protected channels(): EnergyChannel[] {
    return this.states.map((s) => ({
      domain: s.zone.domain,
      mode: 'counter' as const,
      device: s.zone.kind === 'dram'
        ? { id: `${s.zone.packageName}/dram`, name: `${s.zone.packageName} DRAM`, kind: 'dram' }
        : { id: s.zone.packageName, name: s.zone.packageName, kind: 'cpu-package' },
    }));
  }

  protected updatePeriodS(): number {
    return RAPL_UPDATE_PERIOD_S;
  }

  protected async readCumulative(): Promise<CumulativeSample> {
    const joules = new Map<string, number>();
    const raw: Record<string, { energyUj: number; wraps: number; maxEnergyRangeUj: number }> = {};
    for (const s of this.states) {
      let current: number;
      try {
        current = readMicrojoules(this.fs, this.powercapRoot, join(s.zone.path, 'energy_uj'));
      } catch (err) {
        if (err instanceof PowercapAccessError) throw new UserError(`RAPL read failed: ${err.message}. Fix: ${err.fix}.`, { subject: '--powercap-root' });
        throw err;
      }
      if (current > s.zone.maxEnergyRangeUj) {
        // A value above the stated range means the range file is wrong; wrap arithmetic would be too.
        throw new UserError(`RAPL counter ${join(this.powercapRoot, s.zone.path, 'energy_uj')} reads ${current} µJ, above its max_energy_range_uj ${s.zone.maxEnergyRangeUj}. Fix: check the powercap tree, or pass --meter estimate.`, { subject: '--powercap-root' });
      }
      if (current < s.lastRawUj) s.wraps++;
      s.accumulatedUj += counterDeltaUj(s.lastRawUj, current, s.zone.maxEnergyRangeUj);
      s.lastRawUj = current;
      // Integer µJ keep window differences exact; the base class divides once at the end.
      joules.set(s.zone.domain, s.accumulatedUj);
      raw[s.zone.domain] = { energyUj: current, wraps: s.wraps, maxEnergyRangeUj: s.zone.maxEnergyRangeUj };
    }
    return { atMs: this.now(), joules, unitsPerJ: 1e6, raw };
  }

  protected override windowDetail(start: CumulativeSample, end: CumulativeSample): Record<string, unknown> {
    const counters: Record<string, unknown> = {};
    const a = start.raw as Record<string, { energyUj: number; wraps: number; maxEnergyRangeUj: number }>;
    const b = end.raw as Record<string, { energyUj: number; wraps: number; maxEnergyRangeUj: number }>;
    for (const domain of Object.keys(b)) {
      const sa = a[domain];
      const sb = b[domain];
      if (!sa || !sb) continue;
      counters[domain] = { startUj: sa.energyUj, endUj: sb.energyUj, wraps: sb.wraps - sa.wraps, maxEnergyRangeUj: sb.maxEnergyRangeUj };
    }
    return { powercapRoot: this.powercapRoot, counters, ...(this.skipped.length ? { skippedZones: this.skipped } : {}) };
  }
}
