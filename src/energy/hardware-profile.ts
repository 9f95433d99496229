import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../core/index.js';
import type { MeterName } from './measurement.js';

/** How a profile figure was obtained; only `datasheet` and `measured` are first-hand. */
export type FigureBasis = 'datasheet' | 'measured' | 'derived' | 'assumption';

/** One number in a hardware profile, with its unit and where it came from. */
export interface ProfileFigure {
  /** The number, in `unit`. */
  value: number;
  /** Unit of `value`, e.g. `W`, `FLOP/s`, `B/s`, `count`. */
  unit: string;
  /** Where the figure comes from: document name, table, URL text, or the derivation. */
  source: string;
  /** How it was obtained. */
  basis: FigureBasis;
}

/** What kind of device a profile describes; the estimate meter models CPU-like ones only. */
export type DeviceKind = 'gpu' | 'cpu' | 'soc' | 'vm-share';

/** Rules that mark a profile as this machine's when detected. */
export interface ProfileDetection {
  /** Regular expression matched against /proc/cpuinfo's `model name`. */
  cpuModel?: string;
  /** Regular expression matched against nvidia-smi / NVML GPU names. */
  gpuName?: string;
  /** Matches only when the machine shows exactly this many logical CPUs (VM shares). */
  logicalCpus?: number;
}

/** A device's power and performance figures: data, not code (hardware-profiles/*.json). */
export interface HardwareProfile {
  /** Identifier, equal to the file name without `.json`. */
  id: string;
  /** Human name. */
  name: string;
  /** Device kind. */
  kind: DeviceKind;
  /** Power when idle, in watts. */
  idleW: ProfileFigure;
  /** Power at full load (TDP / board power limit), in watts. */
  maxW: ProfileFigure;
  /** Logical CPUs the power figures cover (CPU-like kinds). */
  logicalCpus?: ProfileFigure;
  /** Peak floating-point throughput, in FLOP/s, at `peakFlopsPrecision`. */
  peakFlops?: ProfileFigure;
  /** Precision of peakFlops, e.g. `fp32`. */
  peakFlopsPrecision?: string;
  /** Peak memory bandwidth, in bytes per second. */
  memoryBandwidthBytesPerS?: ProfileFigure;
  /** Meters to prefer on this device, best first. */
  preferredMeters: MeterName[];
  /** Default grid region for carbon (a key of the intensity table), or null for none. */
  gridRegion: string | null;
  /** Detection rules, or absent for profiles that are only picked by --profile or as the fallback. */
  detect?: ProfileDetection;
  /** Free text: what the profile stands for and its caveats. */
  notes?: string;
}

/** The profile used when nothing is detected and none is named. */
export const GENERIC_PROFILE_ID = 'generic-x86-server-cpu';

const KINDS: readonly DeviceKind[] = ['gpu', 'cpu', 'soc', 'vm-share'];
const BASES: readonly FigureBasis[] = ['datasheet', 'measured', 'derived', 'assumption'];
const METERS: readonly MeterName[] = ['nvml+rapl', 'rapl', 'nvml', 'estimate', 'none'];
const TOP_FIELDS = ['$comment', 'id', 'name', 'kind', 'idleW', 'maxW', 'logicalCpus', 'peakFlops', 'peakFlopsPrecision', 'memoryBandwidthBytesPerS', 'preferredMeters', 'gridRegion', 'detect', 'notes'];
const FIGURE_UNITS: Record<string, string> = { idleW: 'W', maxW: 'W', logicalCpus: 'count', peakFlops: 'FLOP/s', memoryBandwidthBytesPerS: 'B/s' };

/**
 * Checks parsed JSON against the profile schema; throws a UserError naming the file and the field.
 * Hand-written rather than a schema library so the messages can say exactly what to fix.
 */
export function validateHardwareProfile(value: unknown, file: string): HardwareProfile {
  const fail = (field: string, why: string): never => {
    throw new UserError(`hardware profile ${file}: field '${field}' ${why}. Fix: edit ${file} (see hardware-profiles/README.md for the schema).`, { subject: file, code: 'E_PROFILE' });
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('(root)', 'must be a JSON object');
  const o = value as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!TOP_FIELDS.includes(k)) fail(k, `is not a known field (known: ${TOP_FIELDS.slice(1).join(', ')})`);
  const str = (k: string, pattern?: RegExp): string => {
    const v = o[k];
    if (typeof v !== 'string' || v.trim() === '') fail(k, 'must be a non-empty string');
    if (pattern && !pattern.test(v as string)) fail(k, `must match ${pattern}, got '${String(v)}'`);
    return v as string;
  };
  const figure = (k: string, required: boolean): ProfileFigure | undefined => {
    const v = o[k];
    if (v === undefined && !required) return undefined;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return fail(k, 'must be an object { value, unit, source, basis }');
    const f = v as Record<string, unknown>;
    for (const fk of Object.keys(f)) if (!['value', 'unit', 'source', 'basis'].includes(fk)) fail(`${k}.${fk}`, 'is not a known field (value, unit, source, basis)');
    if (typeof f.value !== 'number' || !Number.isFinite(f.value) || f.value < 0) fail(`${k}.value`, `must be a finite number >= 0, got ${JSON.stringify(f.value)}`);
    if (f.unit !== FIGURE_UNITS[k]) fail(`${k}.unit`, `must be '${FIGURE_UNITS[k]}', got ${JSON.stringify(f.unit)}`);
    if (typeof f.source !== 'string' || f.source.trim().length < 8) fail(`${k}.source`, 'must name where the figure comes from (document, table, URL text or derivation)');
    if (!BASES.includes(f.basis as FigureBasis)) fail(`${k}.basis`, `must be one of ${BASES.join(', ')}, got ${JSON.stringify(f.basis)}`);
    return { value: f.value as number, unit: f.unit as string, source: f.source as string, basis: f.basis as FigureBasis };
  };
  const id = str('id', /^[a-z0-9][a-z0-9-]*$/);
  const expectedId = basename(file).replace(/\.json$/, '');
  if (id !== expectedId) fail('id', `must equal the file name without .json ('${expectedId}'), got '${id}'`);
  const name = str('name');
  const kind = o.kind as DeviceKind;
  if (!KINDS.includes(kind)) fail('kind', `must be one of ${KINDS.join(', ')}, got ${JSON.stringify(o.kind)}`);
  const idleW = figure('idleW', true) as ProfileFigure;
  const maxW = figure('maxW', true) as ProfileFigure;
  if (maxW.value <= 0) fail('maxW.value', 'must be > 0');
  if (idleW.value > maxW.value) fail('idleW.value', `must not exceed maxW.value (${idleW.value} > ${maxW.value})`);
  const logicalCpus = figure('logicalCpus', kind !== 'gpu');
  if (logicalCpus && (!Number.isInteger(logicalCpus.value) || logicalCpus.value < 1)) fail('logicalCpus.value', 'must be a whole number >= 1');
  const peakFlops = figure('peakFlops', false);
  if (peakFlops && o.peakFlopsPrecision === undefined) fail('peakFlopsPrecision', 'is required with peakFlops (e.g. fp32)');
  if (o.peakFlopsPrecision !== undefined) str('peakFlopsPrecision');
  const memoryBandwidthBytesPerS = figure('memoryBandwidthBytesPerS', false);
  if (!Array.isArray(o.preferredMeters) || o.preferredMeters.length === 0) fail('preferredMeters', 'must be a non-empty array of meter names');
  for (const [i, m] of (o.preferredMeters as unknown[]).entries()) {
    if (!METERS.includes(m as MeterName)) fail(`preferredMeters[${i}]`, `must be one of ${METERS.join(', ')}, got ${JSON.stringify(m)}`);
  }
  if (kind === 'gpu' && (o.preferredMeters as unknown[]).includes('estimate')) {
    fail('preferredMeters', "must not list 'estimate' for a gpu: the estimate meter models CPU load only");
  }
  if (o.gridRegion !== null && (typeof o.gridRegion !== 'string' || o.gridRegion === '')) fail('gridRegion', 'must be a region code string or null');
  let detect: ProfileDetection | undefined;
  if (o.detect !== undefined) {
    if (typeof o.detect !== 'object' || o.detect === null || Array.isArray(o.detect)) fail('detect', 'must be an object');
    const d = o.detect as Record<string, unknown>;
    for (const dk of Object.keys(d)) if (!['cpuModel', 'gpuName', 'logicalCpus'].includes(dk)) fail(`detect.${dk}`, 'is not a known field (cpuModel, gpuName, logicalCpus)');
    for (const rk of ['cpuModel', 'gpuName'] as const) {
      if (d[rk] === undefined) continue;
      if (typeof d[rk] !== 'string') fail(`detect.${rk}`, 'must be a regular expression string');
      try {
        new RegExp(d[rk] as string);
      } catch (err) {
        fail(`detect.${rk}`, `is not a valid regular expression (${(err as Error).message})`);
      }
    }
    if (d.logicalCpus !== undefined && (!Number.isInteger(d.logicalCpus) || (d.logicalCpus as number) < 1)) fail('detect.logicalCpus', 'must be a whole number >= 1');
    if (d.cpuModel === undefined && d.gpuName === undefined) fail('detect', 'must have cpuModel or gpuName');
    detect = d as ProfileDetection;
  }
  if (o.notes !== undefined && typeof o.notes !== 'string') fail('notes', 'must be a string');
  return {
    id, name, kind, idleW, maxW,
    ...(logicalCpus ? { logicalCpus } : {}),
    ...(peakFlops ? { peakFlops, peakFlopsPrecision: o.peakFlopsPrecision as string } : {}),
    ...(memoryBandwidthBytesPerS ? { memoryBandwidthBytesPerS } : {}),
    preferredMeters: o.preferredMeters as MeterName[],
    gridRegion: (o.gridRegion as string | null) ?? null,
    ...(detect ? { detect } : {}),
    ...(o.notes !== undefined ? { notes: o.notes as string } : {}),
  };
}

/** The hardware-profiles/ folder shipped with greennas (works from src/ under vitest and from dist/). */
export function defaultProfilesDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const rel of ['../../hardware-profiles', '../../../hardware-profiles']) {
    const p = resolve(here, rel);
    if (existsSync(join(p, `${GENERIC_PROFILE_ID}.json`))) return p;
  }
  return resolve(here, '../../hardware-profiles');
}

/** Reads and validates every `*.json` in a folder, sorted by id; a bad file is a UserError naming it. */
export function loadHardwareProfiles(dir: string = defaultProfilesDir()): HardwareProfile[] {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
  } catch (err) {
    throw new UserError(`cannot read hardware profiles folder ${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}. Fix: point --profiles-dir at a folder of profile JSON files.`, { subject: '--profiles-dir' });
  }
  const profiles = files.map((f) => {
    const path = join(dir, f);
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(path, 'utf8'));
    } catch (err) {
      throw new UserError(`hardware profile ${path} is not valid JSON: ${(err as Error).message}. Fix: correct the file.`, { subject: path, code: 'E_PROFILE' });
    }
    return validateHardwareProfile(parsed, path);
  });
  if (profiles.length === 0) throw new UserError(`no hardware profiles (*.json) in ${dir}. Fix: point --profiles-dir at the hardware-profiles folder.`, { subject: '--profiles-dir' });
  return profiles;
}

/** What this machine looks like, for matching profiles. */
export interface MachineFacts {
  /** /proc/cpuinfo `model name` of the first CPU (or the board `Model` on a Pi), or null. */
  cpuModel: string | null;
  /** Logical CPUs the OS shows. */
  logicalCpus: number;
  /** NVIDIA GPU names, when known. */
  gpuNames: string[];
}

/** Reads the CPU model from /proc/cpuinfo (Linux; null elsewhere) and the logical CPU count. */
export function readMachineFacts(gpuNames: string[] = [], cpuinfoPath = '/proc/cpuinfo'): MachineFacts {
  let cpuModel: string | null = null;
  try {
    const text = readFileSync(cpuinfoPath, 'utf8');
    // x86 kernels print `model name`; Raspberry Pi (arm64) kernels print the board as `Model`.
    const m = /^model name\s*:\s*(.+)$/m.exec(text) ?? /^Model\s*:\s*(.+)$/m.exec(text);
    cpuModel = m?.[1]?.trim() ?? null;
  } catch {
    cpuModel = null;
  }
  return { cpuModel, logicalCpus: availableParallelism(), gpuNames };
}

/** Profiles whose detection rules match the machine: the CPU-side one (for estimates) and any GPUs. */
export function detectProfiles(profiles: readonly HardwareProfile[], facts: MachineFacts): { cpu: HardwareProfile | null; gpus: HardwareProfile[] } {
  let cpu: HardwareProfile | null = null;
  const gpus: HardwareProfile[] = [];
  for (const p of profiles) {
    const d = p.detect;
    if (!d) continue;
    if (d.cpuModel && facts.cpuModel && new RegExp(d.cpuModel).test(facts.cpuModel)) {
      if (d.logicalCpus !== undefined && d.logicalCpus !== facts.logicalCpus) continue;
      // A rule with a CPU count is more specific than one without; prefer it.
      if (!cpu || (d.logicalCpus !== undefined && cpu.detect?.logicalCpus === undefined)) cpu = p;
    }
    if (d.gpuName && facts.gpuNames.some((n) => new RegExp(d.gpuName as string).test(n))) gpus.push(p);
  }
  return { cpu, gpus };
}

/** How the profile in use was chosen. */
export type ProfileChoice = 'flag' | 'detected' | 'generic';

/**
 * The profile to use: the one named by --profile (unknown id → UserError listing the known ones),
 * else the detected CPU-side profile, else the generic x86 server CPU.
 */
export function resolveHardwareProfile(profiles: readonly HardwareProfile[], id: string | undefined, facts: MachineFacts): { profile: HardwareProfile; chosenBy: ProfileChoice } {
  if (id !== undefined) {
    const p = profiles.find((q) => q.id === id);
    if (!p) throw new UserError(`--profile '${id}' is not a known hardware profile. Fix: pass one of ${profiles.map((q) => q.id).join(', ')} (see greennas profiles).`, { subject: '--profile' });
    return { profile: p, chosenBy: 'flag' };
  }
  const detected = detectProfiles(profiles, facts).cpu;
  if (detected) return { profile: detected, chosenBy: 'detected' };
  const generic = profiles.find((q) => q.id === GENERIC_PROFILE_ID);
  if (!generic) throw new UserError(`no profile matches this machine and the generic profile '${GENERIC_PROFILE_ID}' is missing. Fix: pass --profile ID.`, { subject: '--profile' });
  return { profile: generic, chosenBy: 'generic' };
}
