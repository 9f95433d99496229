import { KERNELS_WASM_BASE64 } from './simd/kernels-wasm.js';
import type { WasmBackend } from './wasm-backend-access.js';

/**
 * The SIMD kernels of src/trainer/simd/kernels.c. Pointers are byte offsets on tfjs-backend-wasm's
 * heap (the module imports that memory), so tensors are read and written in place.
 */
export interface SimdKernels {
  /** Training-mode batch norm (+ ReLU6); scratch: part (C floats), s64 and q64 (C doubles each). */
  bn_train(x: number, gamma: number, beta: number, y: number, mean: number, variance: number,
    part: number, s64: number, q64: number, rows: number, C: number, eps: number, relu6: number): void;
  /** Its gradients; scratch: four C-float and two C-double arrays. */
  bn_train_grad(dy: number, x: number, gamma: number, beta: number, mean: number, variance: number,
    dx: number, dgamma: number, dbeta: number, f1: number, f2: number, f3: number, f4: number, d1: number, d2: number,
    rows: number, C: number, eps: number, relu6: number): void;
  /** Depthwise filter gradient (channel multiplier 1); scratch: taps (KH·KW·C floats), out64 (KH·KW·C doubles). */
  dw_filter_grad(x: number, dy: number, out: number, taps: number, out64: number,
    N: number, H: number, W: number, C: number, OH: number, OW: number, KH: number, KW: number,
    sh: number, sw: number, dh: number, dw: number, pt: number, pl: number): void;
  /** Depthwise input gradient (channel multiplier 1), no scratch. */
  dw_input_grad(dy: number, w: number, dx: number, N: number, H: number, W: number, C: number, OH: number, OW: number,
    KH: number, KW: number, sh: number, sw: number, dh: number, dw: number, pt: number, pl: number): void;
  /** 1×1 stride-1 convolution filter gradient; scratch: part (C·CO floats), out64 (C·CO doubles). */
  conv1x1_filter_grad(x: number, dy: number, out: number, part: number, out64: number, P: number, C: number, CO: number): void;
  /**
   * C = alpha·op(A)·op(B) over a two-level batch, operands addressed by element strides (see kernels.c);
   * scratch: pack (gemmPackFloats(K, N) floats).
   */
  gemm(a: number, b: number, c: number, pack: number, M: number, N: number, K: number,
    aRowStride: number, aColStride: number, bRowStride: number, bColStride: number, cRowStride: number,
    batch1: number, batch2: number, aStride1: number, aStride2: number, bStride1: number, bStride2: number,
    cStride1: number, cStride2: number, alpha: number): void;
  /** Softmax gradient over rows of n, in place on g: g ← alpha·p⊙(g − Σ g·p); no scratch. */
  softmax_grad(p: number, g: number, rows: number, n: number, alpha: number): void;
  /** out[o, c] = scale·Σ_r x[o, r, c]; scratch: part (cols floats), s64 (cols doubles). */
  reduce_rows(x: number, out: number, part: number, s64: number, outer: number, rows: number, cols: number, scale: number): void;
  /** Layer norm over the last axis; outputs y, mean and rstd per row; no scratch. */
  layer_norm(x: number, gamma: number, beta: number, y: number, mean: number, rstd: number, rows: number, D: number, eps: number): void;
  /** c[r, j] += bias[j] (bias 0: none) over rows of n, then act (0 none, 1 ReLU, 2 ReLU6); in place, no scratch. */
  bias_act(c: number, bias: number, rows: number, n: number, act: number): void;
  /** One Adam step of one variable (tfjs's op order, float32): new weights, first and second moments; no scratch. */
  adam_update(w: number, m: number, v: number, g: number, w2: number, m2: number, v2: number, n: number,
    beta1: number, oneMinusBeta1: number, beta2: number, oneMinusBeta2: number, c1: number, c2: number, eps: number, negLr: number): void;
  /** Its gradients; scratch: pg, pb (D floats), g64, b64 (D doubles). */
  layer_norm_grad(dy: number, x: number, gamma: number, mean: number, rstd: number, dx: number, dgamma: number, dbeta: number,
    pg: number, pb: number, g64: number, b64: number, rows: number, D: number): void;
}

/** Floats of scratch `gemm` needs to pack op(B) of a K × N product (its KC × NC blocks, NR-column panels). */
export function gemmPackFloats(K: number, N: number): number {
  return Math.max(1, Math.min(K, 256) * Math.ceil(Math.min(N, 256) / 8) * 8);
}

/** The parts of the WebAssembly global used here (this project's TypeScript libs do not declare it). */
interface WasmApi {
  Memory: new (...args: never[]) => object;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => { exports: unknown };
}
const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

let loaded: SimdKernels | null | undefined;
let loadedFor: WasmBackend | undefined;

/**
 * The SIMD kernels bound to this wasm backend's heap, or null where they cannot load (no SIMD in
 * this engine, or a tfjs-backend-wasm build that does not expose its memory); callers then keep
 * their typed-array loops.
 */
export function simdKernels(backend: WasmBackend): SimdKernels | null {
  if (loaded !== undefined && loadedFor === backend) return loaded;
  loadedFor = backend;
  loaded = null;
  const memory = (backend.wasm as unknown as { asm?: { memory?: unknown } }).asm?.memory;
  if (!(memory instanceof wasmApi.Memory)) return loaded;
  try {
    const bytes = Buffer.from(KERNELS_WASM_BASE64, 'base64');
    const instance = new wasmApi.Instance(new wasmApi.Module(bytes), { env: { memory } });
    loaded = instance.exports as unknown as SimdKernels;
  } catch {
    loaded = null;
  }
  return loaded;
}
