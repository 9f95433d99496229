import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { NvmlCallError, type GpuInfo, type NvmlLibrary, type NvmlLoadResult, type CommandRunner } from '../../src/energy/index.js';

/** Folder of the energy fixtures. */
export const ENERGY_FIXTURES = fileURLToPath(new URL('../fixtures/energy/', import.meta.url));

type Answer = number | { error: number };

interface NvmlRecording {
  devices: GpuInfo[];
  totalEnergyMj: Record<string, Answer[]>;
  powerMw: Record<string, Answer[]>;
  sampleTimesMs?: number[];
}

/** Replays a recorded NVML session call by call; running past the recording fails the test loudly. */
export function recordedNvml(file: string): { load: () => Promise<NvmlLoadResult>; library: NvmlLibrary; now: () => number; calls: string[]; shutdowns: () => number } {
  const rec = JSON.parse(readFileSync(ENERGY_FIXTURES + file, 'utf8')) as NvmlRecording;
  const cursors = new Map<string, number>();
  const calls: string[] = [];
  let shutdowns = 0;
  const next = (fn: 'totalEnergyMj' | 'powerMw', index: number): number => {
    const key = `${fn}:${index}`;
    calls.push(key);
    const list = rec[fn][String(index)] ?? [];
    const i = cursors.get(key) ?? 0;
    cursors.set(key, i + 1);
    const a = list[i];
    if (a === undefined) throw new Error(`recording ${file} has no answer #${i} for ${key}`);
    if (typeof a === 'object') throw new NvmlCallError(fn === 'totalEnergyMj' ? 'nvmlDeviceGetTotalEnergyConsumption' : 'nvmlDeviceGetPowerUsage', a.error);
    return a;
  };
  const library: NvmlLibrary = {
    deviceCount: () => rec.devices.length,
    device: (i) => {
      const d = rec.devices[i];
      if (!d) throw new NvmlCallError('nvmlDeviceGetHandleByIndex_v2', 2);
      return d;
    },
    totalEnergyMj: (i) => next('totalEnergyMj', i),
    powerMw: (i) => next('powerMw', i),
    shutdown: () => { shutdowns++; },
  };
  let t = 0;
  const times = rec.sampleTimesMs ?? [];
  return {
    load: async () => ({ ok: true, library, path: `recorded:${file}` }),
    library,
    now: () => {
      const v = times[t++];
      if (v === undefined) throw new Error(`recording ${file} has no sample time #${t - 1}`);
      return v;
    },
    calls,
    shutdowns: () => shutdowns,
  };
}

/** Replays recorded nvidia-smi answers in order and checks the arguments sent. */
export function recordedSmi(file: string): { run: CommandRunner; now: () => number; argsSeen: string[][] } {
  const rec = JSON.parse(readFileSync(ENERGY_FIXTURES + file, 'utf8')) as { answers: string[]; sampleTimesMs: number[] };
  let i = 0;
  let t = 0;
  const argsSeen: string[][] = [];
  return {
    run: async (cmd, args) => {
      if (cmd !== 'nvidia-smi') throw new Error(`unexpected command ${cmd}`);
      argsSeen.push([...args]);
      const a = rec.answers[i++];
      if (a === undefined) throw new Error(`recording ${file} has no answer #${i - 1}`);
      return a;
    },
    now: () => rec.sampleTimesMs[t++] ?? Number.NaN,
    argsSeen,
  };
}

/** A library loader that fails the way a machine without the NVIDIA driver does. */
export const noNvml = async (): Promise<NvmlLoadResult> => ({ ok: false, reason: 'libnvidia-ml could not be loaded (libnvidia-ml.so.1: cannot open shared object file)' });

/** A command runner for a machine without nvidia-smi. */
export const noSmi: CommandRunner = async () => {
  throw Object.assign(new Error('spawn nvidia-smi ENOENT'), { code: 'ENOENT' });
};
