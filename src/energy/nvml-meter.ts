import { performance } from 'node:perf_hooks';
import { UserError } from '../core/index.js';
import { CumulativeMeter, type CumulativeSample, type EnergyChannel, type MeterProbe } from './energy-meter.js';
import { NVML_ERROR_NOT_SUPPORTED, NvmlCallError, loadNvmlLibrary, type GpuInfo, type NvmlLibrary, type NvmlLoadResult } from './nvml-library.js';
import { execCommandRunner, queryNvidiaSmi, type CommandRunner } from './nvidia-smi.js';

/** NVML's energy counter refreshes every 20–100 ms depending on the GPU; windows shorter than this are flagged. */
export const NVML_COUNTER_UPDATE_PERIOD_S = 0.1;
/** Default polling period when integrating NVML power (nvmlDeviceGetPowerUsage is cheap). */
export const DEFAULT_NVML_POLL_INTERVAL_MS = 100;
/** Default polling period when integrating nvidia-smi power (each poll starts a process). */
export const DEFAULT_SMI_POLL_INTERVAL_MS = 500;

/** Which GPUs CUDA_VISIBLE_DEVICES leaves visible, and any entry that was not understood. */
export interface VisibleGpus {
  /** Visible GPUs in CUDA's order (the variable's order). */
  gpus: GpuInfo[];
  /** Why the list stopped early or was empty, when it did. */
  note?: string;
}

/**
 * Applies CUDA_VISIBLE_DEVICES the way the CUDA runtime does: a comma list of indices or UUIDs
 * (`GPU-…`, a unique prefix is enough); the list ends at the first entry that names no GPU; an empty
 * value hides every GPU; unset shows all. Indices are NVML (PCI bus) indices, which match CUDA's only
 * with CUDA_DEVICE_ORDER=PCI_BUS_ID; the measurement records UUIDs so the devices are unambiguous.
 * MIG instances are not metered (NVML has no per-instance energy counter).
 */
export function selectVisibleGpus(all: readonly GpuInfo[], cudaVisibleDevices: string | undefined): VisibleGpus {
  if (cudaVisibleDevices === undefined) return { gpus: [...all] };
  const tokens = cudaVisibleDevices.split(',').map((t) => t.trim());
  if (cudaVisibleDevices.trim() === '') return { gpus: [], note: 'CUDA_VISIBLE_DEVICES is empty, so no GPU is visible' };
  const gpus: GpuInfo[] = [];
  for (const t of tokens) {
    let found: GpuInfo | undefined;
    if (/^\d+$/.test(t)) found = all.find((g) => g.index === Number(t));
    else if (/^GPU-/i.test(t)) {
      const matches = all.filter((g) => g.uuid.toLowerCase().startsWith(t.toLowerCase()));
      found = matches.length === 1 ? matches[0] : undefined;
    } else if (/^MIG-/i.test(t)) {
      return { gpus, note: `CUDA_VISIBLE_DEVICES entry '${t}' is a MIG instance; NVML has no per-instance energy counter` };
    }
    if (!found) return { gpus, note: `CUDA_VISIBLE_DEVICES entry '${t}' names no GPU; CUDA ignores it and every entry after it` };
    if (!gpus.some((g) => g.uuid === found!.uuid)) gpus.push(found);
  }
  return { gpus };
}

type Backend =
  | { kind: 'nvml'; library: NvmlLibrary; path: string }
  | { kind: 'nvidia-smi' };

interface GpuState {
  gpu: GpuInfo;
  mode: 'counter' | 'polled';
  lastCounterMj?: number;
  lastPowerMw?: number;
  lastAtMs?: number;
  /** Cumulative µJ: integer for counters (mJ × 1000) and for polls at whole-ms times, so differences stay exact. */
  accumulatedUj: number;
}

/** Options for an NvmlMeter; every outside dependency is injectable for tests without a GPU. */
export interface NvmlMeterOptions {
  /** Loads libnvidia-ml (default: through koffi). */
  loadLibrary?: () => Promise<NvmlLoadResult>;
  /** Runs nvidia-smi (used when the library cannot be loaded). */
  runCommand?: CommandRunner;
  /** The CUDA_VISIBLE_DEVICES value (default: the environment's). */
  cudaVisibleDevices?: string | undefined;
  /** Polling period for power integration, in milliseconds. */
  sampleIntervalMs?: number;
  /** Monotonic clock in milliseconds (tests replay recorded timings). */
  now?: () => number;
}

/**
 * Energy of the visible NVIDIA GPUs: NVML's total-energy counter where the GPU has one (`counter`),
 * otherwise board power polled and integrated by the trapezoid rule (`polled`), through NVML or, when
 * the library cannot be loaded, nvidia-smi.
 */
export class NvmlMeter extends CumulativeMeter {
  readonly name = 'nvml' as const;
  private readonly loadLibrary: () => Promise<NvmlLoadResult>;
  private readonly runCommand: CommandRunner;
  private readonly cudaVisibleDevices: string | undefined;
  private readonly now: () => number;
  private probed: Promise<MeterProbe> | undefined;
  private backend: Backend | undefined;
  private states: GpuState[] = [];
  private visibilityNote: string | undefined;

  constructor(options: NvmlMeterOptions = {}) {
    super(options.sampleIntervalMs ?? DEFAULT_NVML_POLL_INTERVAL_MS);
    this.loadLibrary = options.loadLibrary ?? (() => loadNvmlLibrary());
    this.runCommand = options.runCommand ?? execCommandRunner;
    this.cudaVisibleDevices = 'cudaVisibleDevices' in options ? options.cudaVisibleDevices : process.env.CUDA_VISIBLE_DEVICES;
    this.now = options.now ?? (() => performance.now());
    this.pollIntervalMs = options.sampleIntervalMs;
  }

  private pollIntervalMs: number | undefined;

  probe(): Promise<MeterProbe> {
    this.probed ??= this.doProbe();
    return this.probed;
  }

  /** The GPUs measured and how (known after probe). */
  gpus(): { gpu: GpuInfo; mode: 'counter' | 'polled' }[] {
    return this.states.map((s) => ({ gpu: s.gpu, mode: s.mode }));
  }

  private async doProbe(): Promise<MeterProbe> {
    const fix = 'install the NVIDIA driver (libnvidia-ml.so.1, nvidia-smi), check CUDA_VISIBLE_DEVICES, or pass --meter rapl / --meter estimate';
    const loaded = await this.loadLibrary();
    let all: GpuInfo[];
    let smiPower: Map<number, number | null> | undefined;
    if (loaded.ok) {
      this.backend = { kind: 'nvml', library: loaded.library, path: loaded.path };
      try {
        const n = loaded.library.deviceCount();
        all = Array.from({ length: n }, (_, i) => loaded.library.device(i));
      } catch (err) {
        return { meter: 'nvml', available: false, reason: `NVML loaded but listing GPUs failed: ${(err as Error).message}`, fix };
      }
    } else {
      try {
        const rows = await queryNvidiaSmi(this.runCommand);
        this.backend = { kind: 'nvidia-smi' };
        all = rows;
        smiPower = new Map(rows.map((r) => [r.index, r.powerW]));
      } catch (err) {
        const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'nvidia-smi is not installed' : `nvidia-smi failed (${(err as Error).message.split('\n')[0]})`;
        return { meter: 'nvml', available: false, reason: `no NVIDIA GPU found: ${loaded.reason}; ${why}`, fix };
      }
    }
    if (all.length === 0) return { meter: 'nvml', available: false, reason: 'the NVIDIA driver reports no GPU', fix };
    const visible = selectVisibleGpus(all, this.cudaVisibleDevices);
    this.visibilityNote = visible.note;
    if (visible.gpus.length === 0) {
      return { meter: 'nvml', available: false, reason: `no GPU is visible: ${visible.note ?? 'none listed'}`, fix: 'set CUDA_VISIBLE_DEVICES to GPU indices or UUIDs, or pass another --meter' };
    }
    const states: GpuState[] = [];
    for (const gpu of visible.gpus) {
      if (this.backend.kind === 'nvml') {
        const lib = this.backend.library;
        try {
          lib.totalEnergyMj(gpu.index);
          states.push({ gpu, mode: 'counter', accumulatedUj: 0 });
          continue;
        } catch (err) {
          if (!(err instanceof NvmlCallError && err.nvmlCode === NVML_ERROR_NOT_SUPPORTED)) {
            return { meter: 'nvml', available: false, reason: `reading the energy counter of GPU ${gpu.index} (${gpu.uuid}) failed: ${(err as Error).message}`, fix };
          }
        }
        try {
          lib.powerMw(gpu.index);
          states.push({ gpu, mode: 'polled', accumulatedUj: 0 });
        } catch (err) {
          return { meter: 'nvml', available: false, reason: `GPU ${gpu.index} (${gpu.name}) has neither an energy counter nor a power reading: ${(err as Error).message}`, fix };
        }
      } else {
        if (smiPower?.get(gpu.index) == null) {
          return { meter: 'nvml', available: false, reason: `nvidia-smi reports no power.draw for GPU ${gpu.index} (${gpu.name})`, fix };
        }
        states.push({ gpu, mode: 'polled', accumulatedUj: 0 });
      }
    }
    this.states = states;
    const modes = states.map((s) => `GPU ${s.gpu.index} ${s.gpu.name} (${s.mode === 'counter' ? 'energy counter' : 'polled power'})`).join(', ');
    const via = this.backend.kind === 'nvml' ? `NVML (${this.backend.path})` : 'nvidia-smi';
    return { meter: 'nvml', available: true, reason: `${via}: ${modes}${visible.note ? `; ${visible.note}` : ''}` };
  }

  protected async prepare(): Promise<void> {
    const p = await this.probe();
    if (!p.available) throw new UserError(`--meter nvml is not available: ${p.reason}. Fix: ${p.fix ?? 'pass another --meter'}.`, { subject: '--meter' });
    if (this.pollIntervalMs === undefined && this.backend?.kind === 'nvidia-smi') this.setInterval(DEFAULT_SMI_POLL_INTERVAL_MS);
    if (this.states.every((s) => s.mode === 'counter')) this.setInterval(0);
  }

  private setInterval(ms: number): void {
    this.sampleIntervalMs = ms;
  }

  protected channels(): EnergyChannel[] {
    return this.states.map((s) => ({
      domain: `gpu${s.gpu.index}`,
      mode: s.mode,
      device: { id: s.gpu.uuid, name: s.gpu.name, kind: 'gpu' },
    }));
  }

  protected updatePeriodS(): number {
    const polled = this.states.some((s) => s.mode === 'polled');
    return polled ? Math.max(this.sampleIntervalMs, 1) / 1000 : NVML_COUNTER_UPDATE_PERIOD_S;
  }

  protected async readCumulative(): Promise<CumulativeSample> {
    const backend = this.backend;
    if (!backend) throw new Error('NvmlMeter read before probe');
    let smi: Map<number, number | null> | undefined;
    if (backend.kind === 'nvidia-smi') {
      const rows = await queryNvidiaSmi(this.runCommand);
      smi = new Map(rows.map((r) => [r.index, r.powerW]));
    }
    const atMs = this.now();
    const joules = new Map<string, number>();
    const raw: Record<string, unknown> = {};
    for (const s of this.states) {
      const domain = `gpu${s.gpu.index}`;
      if (s.mode === 'counter' && backend.kind === 'nvml') {
        const mj = backend.library.totalEnergyMj(s.gpu.index);
        if (s.lastCounterMj !== undefined) {
          if (mj < s.lastCounterMj) this.channelTrouble.set(`reset:${domain}`, (this.channelTrouble.get(`reset:${domain}`) ?? 0) + 1);
          else s.accumulatedUj += (mj - s.lastCounterMj) * 1000;
        }
        s.lastCounterMj = mj;
        raw[domain] = { totalEnergyMj: mj };
      } else {
        const mw = backend.kind === 'nvml' ? backend.library.powerMw(s.gpu.index) : wattsToMw(smi?.get(s.gpu.index), s.gpu);
        if (s.lastPowerMw !== undefined && s.lastAtMs !== undefined) {
          // Trapezoid rule: mW × ms = µJ.
          s.accumulatedUj += ((s.lastPowerMw + mw) * (atMs - s.lastAtMs)) / 2;
          if (this.sampleIntervalMs > 0 && atMs - s.lastAtMs > 3 * this.sampleIntervalMs && this.openWindows().length > 0) {
            this.channelTrouble.set(`sparse:${domain}`, (this.channelTrouble.get(`sparse:${domain}`) ?? 0) + 1);
          }
        }
        s.lastPowerMw = mw;
        s.lastAtMs = atMs;
        raw[domain] = { powerMw: mw };
      }
      joules.set(domain, s.accumulatedUj);
    }
    return { atMs, joules, unitsPerJ: 1e6, raw };
  }

  protected override windowDetail(start: CumulativeSample, end: CumulativeSample): Record<string, unknown> {
    return {
      via: this.backend?.kind === 'nvml' ? `nvml:${this.backend.path}` : 'nvidia-smi',
      gpus: this.states.map((s) => ({ index: s.gpu.index, uuid: s.gpu.uuid, name: s.gpu.name, mode: s.mode })),
      start: start.raw,
      end: end.raw,
      ...(this.visibilityNote ? { visibility: this.visibilityNote } : {}),
      ...(this.states.some((s) => s.mode === 'polled') ? { pollIntervalMs: this.sampleIntervalMs, integration: 'trapezoid' } : {}),
    };
  }

  protected override async release(): Promise<void> {
    if (this.backend?.kind === 'nvml') this.backend.library.shutdown();
    this.backend = undefined;
  }
}

function wattsToMw(w: number | null | undefined, gpu: GpuInfo): number {
  if (w == null) throw new Error(`nvidia-smi stopped reporting power.draw for GPU ${gpu.index} (${gpu.uuid})`);
  // nvidia-smi prints watts with two decimals, so whole milliwatts lose nothing.
  return Math.round(w * 1000);
}
