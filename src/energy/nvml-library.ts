/** NVML's return code for a query the device or driver does not support (nvml.h). */
export const NVML_ERROR_NOT_SUPPORTED = 3;

/** A GPU as NVML names it. */
export interface GpuInfo {
  /** NVML index (PCI bus order, the order CUDA uses with CUDA_DEVICE_ORDER=PCI_BUS_ID). */
  index: number;
  /** Stable id, `GPU-xxxxxxxx-…`. */
  uuid: string;
  /** Product name, e.g. `NVIDIA H100 80GB HBM3`. */
  name: string;
}

/** An NVML call that returned an error code. */
export class NvmlCallError extends Error {
  constructor(readonly fn: string, readonly nvmlCode: number, detail?: string) {
    super(`${fn} returned NVML error ${nvmlCode}${detail ? ` (${detail})` : ''}`);
    this.name = 'NvmlCallError';
  }
}

/**
 * The slice of libnvidia-ml the nvml meter uses. Synchronous like the C API; the real one is
 * loaded at run time through an FFI, tests pass recorded answers.
 */
export interface NvmlLibrary {
  /** Number of GPUs the driver sees (all of them, before CUDA_VISIBLE_DEVICES). */
  deviceCount(): number;
  /** Index, UUID and name of one GPU. */
  device(index: number): GpuInfo;
  /** nvmlDeviceGetTotalEnergyConsumption: millijoules since the driver loaded (Volta and newer). */
  totalEnergyMj(index: number): number;
  /** nvmlDeviceGetPowerUsage: current board power in milliwatts. */
  powerMw(index: number): number;
  /** nvmlShutdown. */
  shutdown(): void;
}

/** The library's file name on Linux (the unversioned .so is only present with the dev package). */
export const NVML_LIBRARY_FILES = ['libnvidia-ml.so.1', 'libnvidia-ml.so'];

let deviceTypeDeclared = false;

/** Result of trying to load NVML: the library, or why it could not be loaded. */
export type NvmlLoadResult = { ok: true; library: NvmlLibrary; path: string } | { ok: false; reason: string };

/**
 * Loads libnvidia-ml through koffi (an FFI package that ships prebuilt binaries) and calls nvmlInit_v2.
 * Never throws: a machine without the driver or without koffi gets a reason instead.
 */
export async function loadNvmlLibrary(files: readonly string[] = NVML_LIBRARY_FILES): Promise<NvmlLoadResult> {
  type Koffi = typeof import('koffi');
  let koffi: Koffi;
  try {
    const mod = (await import('koffi')) as Koffi & { default?: Koffi };
    koffi = mod.default ?? mod;
  } catch (err) {
    return { ok: false, reason: `the FFI package koffi could not be loaded (${(err as Error).message.split('\n')[0]})` };
  }
  let lib: ReturnType<Koffi['load']> | undefined;
  let path = '';
  const failures: string[] = [];
  for (const f of files) {
    try {
      lib = koffi.load(f);
      path = f;
      break;
    } catch (err) {
      failures.push(`${f}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  if (!lib) return { ok: false, reason: `libnvidia-ml could not be loaded (${failures.join('; ')}); no NVIDIA driver on this machine` };
  try {
    // nvmlDevice_t is an opaque handle; koffi names types globally, so declare it once per process.
    if (!deviceTypeDeclared) {
      koffi.pointer('nvmlDevice_t', koffi.opaque());
      deviceTypeDeclared = true;
    }
    const init = lib.func('int nvmlInit_v2()');
    const shutdown = lib.func('int nvmlShutdown()');
    const errorString = lib.func('const char *nvmlErrorString(int result)');
    const getCount = lib.func('int nvmlDeviceGetCount_v2(_Out_ unsigned int *count)');
    const getHandle = lib.func('int nvmlDeviceGetHandleByIndex_v2(unsigned int index, _Out_ nvmlDevice_t *device)');
    const getUuid = lib.func('int nvmlDeviceGetUUID(nvmlDevice_t device, _Out_ uint8_t *uuid, unsigned int length)');
    const getName = lib.func('int nvmlDeviceGetName(nvmlDevice_t device, _Out_ uint8_t *name, unsigned int length)');
    const getEnergy = lib.func('int nvmlDeviceGetTotalEnergyConsumption(nvmlDevice_t device, _Out_ unsigned long long *energy)');
    const getPower = lib.func('int nvmlDeviceGetPowerUsage(nvmlDevice_t device, _Out_ unsigned int *power)');
    const check = (fn: string, rc: number) => {
      if (rc !== 0) throw new NvmlCallError(fn, rc, String(errorString(rc)));
    };
    check('nvmlInit_v2', init() as number);
    const handles = new Map<number, unknown>();
    const handle = (index: number) => {
      if (!handles.has(index)) {
        const out: unknown[] = [null];
        check('nvmlDeviceGetHandleByIndex_v2', getHandle(index, out) as number);
        handles.set(index, out[0]);
      }
      return handles.get(index);
    };
    const text = (fn: string, call: (h: unknown, buf: Buffer, n: number) => number, index: number) => {
      const buf = Buffer.alloc(96);
      check(fn, call(handle(index), buf, buf.length));
      const end = buf.indexOf(0);
      return buf.subarray(0, end < 0 ? buf.length : end).toString('utf8');
    };
    const library: NvmlLibrary = {
      deviceCount: () => {
        const out = [0];
        check('nvmlDeviceGetCount_v2', getCount(out) as number);
        return Number(out[0]);
      },
      device: (index) => ({
        index,
        uuid: text('nvmlDeviceGetUUID', (h, b, n) => getUuid(h, b, n) as number, index),
        name: text('nvmlDeviceGetName', (h, b, n) => getName(h, b, n) as number, index),
      }),
      totalEnergyMj: (index) => {
        const out: (number | bigint)[] = [0];
        check('nvmlDeviceGetTotalEnergyConsumption', getEnergy(handle(index), out) as number);
        return Number(out[0]);
      },
      powerMw: (index) => {
        const out = [0];
        check('nvmlDeviceGetPowerUsage', getPower(handle(index), out) as number);
        return Number(out[0]);
      },
      shutdown: () => {
        shutdown();
        lib?.unload();
      },
    };
    return { ok: true, library, path };
  } catch (err) {
    return { ok: false, reason: `NVML did not initialise: ${(err as Error).message}` };
  }
}
