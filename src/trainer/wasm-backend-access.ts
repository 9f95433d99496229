import * as tf from '@tensorflow/tfjs';

/** The parts of tfjs-backend-wasm's `BackendWasm` our kernels use (it exposes no typed public API for them). */
export interface WasmBackend {
  wasm: {
    HEAPU8: Uint8Array;
    _malloc(bytes: number): number;
    tfjs: { registerTensor(id: number, size: number, offset: number): void; disposeData(id: number): void };
  };
  dataIdMap: {
    get(dataId: object): { id: number; memoryOffset: number; shape: number[]; dtype: string; refCount: number };
    set(dataId: object, v: { id: number; memoryOffset: number; shape: number[]; dtype: string; refCount: number }): void;
    delete(dataId: object): void;
  };
  dataIdNextNumber: number;
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  disposeData(dataId: object): boolean;
}

/** Inputs of a kernel function, by name. */
export type KernelInputs = Record<string, tf.TensorInfo>;
/** Attributes of a kernel function, by name. */
export type KernelAttrs = Record<string, unknown>;
/** A kernel implementation as tfjs calls it. */
export type KernelImpl = (args: { inputs: KernelInputs; backend: WasmBackend; attrs: KernelAttrs }) => tf.TensorInfo | tf.TensorInfo[];

/** What a backend-neutral kernel needs: run other kernels, read and allocate typed arrays, release intermediates. */
export interface ArrayKernelContext {
  /** Runs a kernel of this backend directly (off the gradient tape). */
  run(name: string, inputs: KernelInputs, attrs?: KernelAttrs): tf.TensorInfo;
  /** The float32 data of a tensor; re-take it after any allocation. */
  f32(t: tf.TensorInfo): Float32Array;
  /** The int32 data of a tensor; re-take it after any allocation. */
  i32(t: tf.TensorInfo): Int32Array;
  /** A new output tensor (contents unspecified). */
  alloc(shape: number[], dtype?: tf.DataType): tf.TensorInfo;
  /** Releases intermediates. */
  free(...ts: tf.TensorInfo[]): void;
  /** Same data, another shape. */
  reshape(t: tf.TensorInfo, shape: number[]): tf.TensorInfo;
}

interface CpuBackendData {
  data: { get(dataId: object): { values: Float32Array | Int32Array } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: Float32Array | Int32Array): tf.TensorInfo;
  disposeIntermediateTensorInfo(t: tf.TensorInfo): void;
}

/** ArrayKernelContext over the pure-JS cpu backend. */
export class CpuKernelContext implements ArrayKernelContext {
  constructor(readonly backend: CpuBackendData, private readonly stock: Map<string, KernelImpl>) {}

  run(name: string, inputs: KernelInputs, attrs: KernelAttrs = {}): tf.TensorInfo {
    const impl = this.stock.get(name) ?? (tf.getKernel(name, 'cpu')?.kernelFunc as unknown as KernelImpl | undefined);
    if (!impl) throw new Error(`cpu kernel ${name} is not registered`);
    return impl({ inputs, backend: this.backend as unknown as WasmBackend, attrs }) as tf.TensorInfo;
  }

  f32(t: tf.TensorInfo): Float32Array {
    return this.backend.data.get(t.dataId).values as Float32Array;
  }

  i32(t: tf.TensorInfo): Int32Array {
    const v = this.backend.data.get(t.dataId).values;
    return v instanceof Int32Array ? v : Int32Array.from(v);
  }

  alloc(shape: number[], dtype: tf.DataType = 'float32'): tf.TensorInfo {
    const n = sizeOf(shape);
    return this.backend.makeTensorInfo(shape, dtype, dtype === 'int32' ? new Int32Array(n) : new Float32Array(n));
  }

  free(...ts: tf.TensorInfo[]): void {
    for (const t of ts) this.backend.disposeIntermediateTensorInfo(t);
  }

  reshape(t: tf.TensorInfo, shape: number[]): tf.TensorInfo {
    return this.run('Reshape', { x: t }, { shape });
  }
}

/**
 * Helpers for writing wasm kernels in terms of other wasm kernels and direct heap access. Calling
 * kernel functions directly (not through ops) keeps intermediates off the gradient tape; every
 * intermediate must be released with `free`.
 */
export class WasmKernelContext implements ArrayKernelContext {
  constructor(readonly backend: WasmBackend, private readonly stock: Map<string, KernelImpl>) {}

  /** Runs a kernel on the wasm backend: the stock one when we replaced it, else the registered one. */
  run(name: string, inputs: KernelInputs, attrs: KernelAttrs = {}): tf.TensorInfo {
    const impl = this.stock.get(name) ?? (tf.getKernel(name, 'wasm')?.kernelFunc as unknown as KernelImpl | undefined);
    if (!impl) throw new Error(`wasm kernel ${name} is not registered`);
    return impl({ inputs, backend: this.backend, attrs }) as tf.TensorInfo;
  }

  /** A float32 view of a tensor's data on the wasm heap; invalid after the next allocation. */
  f32(t: tf.TensorInfo): Float32Array {
    return new Float32Array(this.backend.wasm.HEAPU8.buffer, this.offset(t), sizeOf(t.shape));
  }

  /** An int32 view of a tensor's data on the wasm heap; invalid after the next allocation. */
  i32(t: tf.TensorInfo): Int32Array {
    return new Int32Array(this.backend.wasm.HEAPU8.buffer, this.offset(t), sizeOf(t.shape));
  }

  /** Byte offset of a tensor's data on the wasm heap (a pointer for the SIMD kernels). */
  offset(t: tf.TensorInfo): number {
    return heapOffset(this.backend, t);
  }

  /** A new, uninitialised output tensor. */
  alloc(shape: number[], dtype: tf.DataType = 'float32'): tf.TensorInfo {
    return this.backend.makeOutput(shape, dtype);
  }

  /**
   * A tensor that aliases `count` elements of `base` starting at element `start`, without copying.
   * Release it with `freeView`, never `free` (the memory belongs to `base`).
   */
  view(base: tf.TensorInfo, start: number, shape: number[]): tf.TensorInfo {
    const b = this.backend;
    const entry = b.dataIdMap.get(base.dataId);
    const id = b.dataIdNextNumber++;
    const dataId = { id };
    const offset = entry.memoryOffset + start * 4;
    b.dataIdMap.set(dataId, { id, memoryOffset: offset, shape, dtype: base.dtype, refCount: 1 });
    b.wasm.tfjs.registerTensor(id, sizeOf(shape), offset);
    return { dataId, shape, dtype: base.dtype };
  }

  /** Releases a view made by `view` without freeing the memory it aliases. */
  freeView(t: tf.TensorInfo): void {
    const entry = this.backend.dataIdMap.get(t.dataId);
    this.backend.wasm.tfjs.disposeData(entry.id);
    this.backend.dataIdMap.delete(t.dataId);
  }

  /** Releases an intermediate tensor (a reshape's alias only drops a reference). */
  free(...ts: tf.TensorInfo[]): void {
    for (const t of ts) this.backend.disposeData(t.dataId);
  }

  /** A same-data tensor with another shape (shares memory, counts a reference). */
  reshape(t: tf.TensorInfo, shape: number[]): tf.TensorInfo {
    return this.run('Reshape', { x: t }, { shape });
  }
}

/** Byte offset of a tensor's data on a wasm backend's heap. */
export function heapOffset(backend: WasmBackend, t: tf.TensorInfo): number {
  return backend.dataIdMap.get(t.dataId).memoryOffset;
}

/** Number of elements of a shape. */
export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
