import * as tf from '@tensorflow/tfjs';
import { BATCH_NORM_TRAIN, BATCH_NORM_TRAIN_GRAD, LAYER_NORM, LAYER_NORM_GRAD, RELU6_GRAD } from '../space/layers/index.js';
import { simdKernels, type SimdKernels } from './simd-kernels.js';
import { heapOffset, sizeOf, type WasmBackend } from './wasm-backend-access.js';

/**
 * Kernels of the fused training ops that src/space/layers/fused-layers.ts calls by name: batch
 * normalisation in training mode, layer normalisation and the ReLU6 gradient, each one kernel (a few
 * passes over the data) instead of the ten or so element-wise kernels the stock composition runs.
 * The kernels are plain loops over typed arrays, registered for both `wasm` and `cpu` so the two
 * backends compute the same thing; other backends (and a thread that never registered them) use the
 * stock composition.
 */

type Arrays = Float32Array[];
type Compute = (inputs: Arrays, outputs: Arrays, attrs: Record<string, unknown>) => void;
/** A SIMD implementation: heap byte offsets of the inputs, the outputs and a zeroed-or-not scratch block. */
type SimdCompute = (simd: SimdKernels, ins: number[], outs: number[], scratch: number, shapes: number[][], attrs: Record<string, unknown>) => void;
interface FusedKernel {
  name: string;
  inputNames: string[];
  outputShapes: (inputs: tf.TensorInfo[]) => number[][];
  compute: Compute;
  /** The same kernel in src/trainer/simd/kernels.c, used on wasm when the module loads. */
  simd?: { scratchFloats: (shapes: number[][]) => number; run: SimdCompute };
}

const channels = (shapes: number[][]) => shapes[0]![shapes[0]!.length - 1]!;
const rowsOf = (shapes: number[][]) => sizeOf(shapes[0]!) / channels(shapes);

function batchNormTrain([x, gamma, beta]: Arrays, [y, mean, variance]: Arrays, attrs: Record<string, unknown>): void {
  const C = gamma!.length;
  const rows = x!.length / C;
  const eps = attrs.epsilon as number;
  // One pass for both moments; float64 accumulators keep E[x²] − E[x]² accurate for float32 data.
  const s = new Float64Array(C);
  const q = new Float64Array(C);
  for (let r = 0, i = 0; r < rows; r++) {
    for (let c = 0; c < C; c++, i++) { const v = x![i]!; s[c] += v; q[c] += v * v; }
  }
  const scale = new Float64Array(C);
  const shift = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    const m = s[c]! / rows;
    const v = Math.max(q[c]! / rows - m * m, 0);
    mean![c] = m;
    variance![c] = v;
    scale[c] = gamma![c]! / Math.sqrt(v + eps);
    shift[c] = beta![c]! - m * scale[c]!;
  }
  if (attrs.relu6) {
    for (let r = 0, i = 0; r < rows; r++) {
      for (let c = 0; c < C; c++, i++) {
        // Branch-free at 0 (about half the values are negative); values above 6 are rare.
        const z = x![i]! * scale[c]! + shift[c]!;
        const p = z * +(z > 0);
        y![i] = p < 6 ? p : 6;
      }
    }
  } else {
    for (let r = 0, i = 0; r < rows; r++) for (let c = 0; c < C; c++, i++) y![i] = x![i]! * scale[c]! + shift[c]!;
  }
}

function batchNormTrainGrad([dy, x, gamma, beta, mean, variance]: Arrays, [dx, dgamma, dbeta]: Arrays, attrs: Record<string, unknown>): void {
  const C = gamma!.length;
  const rows = x!.length / C;
  const eps = attrs.epsilon as number;
  const invStd = new Float64Array(C);
  const scale = new Float64Array(C);
  const shift = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    invStd[c] = 1 / Math.sqrt(variance![c]! + eps);
    scale[c] = gamma![c]! * invStd[c]!;
    shift[c] = beta![c]! - mean![c]! * scale[c]!;
  }
  const relu6 = Boolean(attrs.relu6);
  const sdy = new Float64Array(C);
  const sdyx = new Float64Array(C);
  // With a fused ReLU6 the incoming gradient is masked by 0 < z ≤ 6 (z recomputed from x, not
  // stored); the masked gradient is kept in dx for the second pass.
  const g = relu6 ? dx! : dy!;
  if (relu6) {
    for (let r = 0, i = 0; r < rows; r++) {
      for (let c = 0; c < C; c++, i++) {
        const z = x![i]! * scale[c]! + shift[c]!;
        const v = dy![i]! * (+(z > 0) & +(z <= 6));
        dx![i] = v;
        sdy[c] += v;
        sdyx[c] += v * (x![i]! - mean![c]!);
      }
    }
  } else {
    for (let r = 0, i = 0; r < rows; r++) {
      for (let c = 0; c < C; c++, i++) { const v = dy![i]!; sdy[c] += v; sdyx[c] += v * (x![i]! - mean![c]!); }
    }
  }
  // dx = γ·σ⁻¹·(g − mean(g) − x̂·mean(g·x̂)), folded into one multiply-add per element.
  const a = new Float64Array(C);
  const b = new Float64Array(C);
  const k = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    const is = invStd[c]!;
    dbeta![c] = sdy[c]!;
    dgamma![c] = sdyx[c]! * is;
    a[c] = gamma![c]! * is;
    k[c] = a[c]! * sdyx[c]! * is * is / rows;
    b[c] = -a[c]! * sdy[c]! / rows + k[c]! * mean![c]!;
  }
  for (let r = 0, i = 0; r < rows; r++) {
    for (let c = 0; c < C; c++, i++) dx![i] = a[c]! * g[i]! - k[c]! * x![i]! + b[c]!;
  }
}

function layerNorm([x, gamma, beta]: Arrays, [y, mean, rstd]: Arrays, attrs: Record<string, unknown>): void {
  const D = gamma!.length;
  const rows = x!.length / D;
  const eps = attrs.epsilon as number;
  for (let r = 0; r < rows; r++) {
    const o = r * D;
    let s = 0;
    for (let j = 0; j < D; j++) s += x![o + j]!;
    const m = s / D;
    let v = 0;
    for (let j = 0; j < D; j++) { const d = x![o + j]! - m; v += d * d; }
    const is = 1 / Math.sqrt(v / D + eps);
    mean![r] = m;
    rstd![r] = is;
    for (let j = 0; j < D; j++) y![o + j] = (x![o + j]! - m) * is * gamma![j]! + beta![j]!;
  }
}

function layerNormGrad([dy, x, gamma, mean, rstd]: Arrays, [dx, dgamma, dbeta]: Arrays): void {
  const D = gamma!.length;
  const rows = x!.length / D;
  const dg = new Float64Array(D);
  const db = new Float64Array(D);
  for (let r = 0; r < rows; r++) {
    const o = r * D;
    const m = mean![r]!;
    const is = rstd![r]!;
    // dx = σ⁻¹·(g − mean(g) − x̂·mean(g·x̂)) with g = dy·γ.
    let sg = 0;
    let sgx = 0;
    for (let j = 0; j < D; j++) {
      const xh = (x![o + j]! - m) * is;
      const d = dy![o + j]!;
      const g = d * gamma![j]!;
      sg += g;
      sgx += g * xh;
      dg[j] += d * xh;
      db[j] += d;
    }
    sg /= D;
    sgx /= D;
    for (let j = 0; j < D; j++) {
      const xh = (x![o + j]! - m) * is;
      dx![o + j] = is * (dy![o + j]! * gamma![j]! - sg - xh * sgx);
    }
  }
  for (let j = 0; j < D; j++) { dgamma![j] = dg[j]!; dbeta![j] = db[j]!; }
}

function relu6Grad([dy, x]: Arrays, [dx]: Arrays): void {
  const n = dx!.length;
  // Branch-free: the mask is unpredictable, and a mispredicted branch per element costs more than the multiply.
  for (let i = 0; i < n; i++) { const v = x![i]!; dx![i] = dy![i]! * (+(v > 0) & +(v <= 6)); }
}

const KERNELS: FusedKernel[] = [
  { name: BATCH_NORM_TRAIN, inputNames: ['x', 'gamma', 'beta'], compute: batchNormTrain,
    outputShapes: ([x, g]) => [x!.shape, g!.shape, g!.shape],
    // Scratch: s64, q64 (C doubles each), then part (C floats).
    simd: { scratchFloats: (sh) => 5 * channels(sh), run: (k, [x, g, b], [y, m, v], s, sh, a) => {
      const C = channels(sh);
      k.bn_train(x!, g!, b!, y!, m!, v!, s + 16 * C, s, s + 8 * C, rowsOf(sh), C, a.epsilon as number, a.relu6 ? 1 : 0);
    } } },
  { name: BATCH_NORM_TRAIN_GRAD, inputNames: ['dy', 'x', 'gamma', 'beta', 'mean', 'variance'], compute: batchNormTrainGrad,
    outputShapes: ([, x, g]) => [x!.shape, g!.shape, g!.shape],
    // Scratch: two C-double sums, then four C-float arrays.
    simd: { scratchFloats: (sh) => 8 * channels(sh), run: (k, [dy, x, g, b, m, v], [dx, dg, db], s, sh, a) => {
      const C = channels(sh);
      k.bn_train_grad(dy!, x!, g!, b!, m!, v!, dx!, dg!, db!, s + 16 * C, s + 20 * C, s + 24 * C, s + 28 * C, s, s + 8 * C,
        rowsOf(sh), C, a.epsilon as number, a.relu6 ? 1 : 0);
    } } },
  { name: LAYER_NORM, inputNames: ['x', 'gamma', 'beta'], compute: layerNorm,
    outputShapes: ([x]) => [x!.shape, x!.shape.slice(0, -1), x!.shape.slice(0, -1)],
    simd: { scratchFloats: () => 1, run: (k, [x, g, b], [y, m, r], _s, sh, a) => {
      k.layer_norm(x!, g!, b!, y!, m!, r!, rowsOf(sh), channels(sh), a.epsilon as number);
    } } },
  { name: LAYER_NORM_GRAD, inputNames: ['dy', 'x', 'gamma', 'mean', 'rstd'], compute: layerNormGrad,
    outputShapes: ([, x, g]) => [x!.shape, g!.shape, g!.shape],
    // Scratch: two D-double sums, then two D-float block partials.
    simd: { scratchFloats: (sh) => 6 * channels(sh), run: (k, [dy, x, g, m, r], [dx, dg, db], s, sh) => {
      const D = channels(sh);
      k.layer_norm_grad(dy!, x!, g!, m!, r!, dx!, dg!, db!, s + 16 * D, s + 20 * D, s, s + 8 * D, rowsOf(sh), D);
    } } },
  { name: RELU6_GRAD, inputNames: ['dy', 'x'], compute: relu6Grad, outputShapes: ([dy]) => [dy!.shape] },
];

interface CpuBackend {
  data: { get(dataId: object): { values: Float32Array } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: Float32Array): tf.TensorInfo;
}

function wasmKernelFunc(kernel: FusedKernel): tf.KernelFunc {
  return (({ inputs, backend, attrs }: { inputs: Record<string, tf.TensorInfo>; backend: WasmBackend; attrs: Record<string, unknown> }) => {
    const ins = kernel.inputNames.map((n) => inputs[n]!);
    // Allocate every output before taking heap views: an allocation can grow (and detach) the heap.
    const outs = kernel.outputShapes(ins).map((s) => backend.makeOutput(s, 'float32'));
    const simd = kernel.simd && simdKernels(backend);
    if (kernel.simd && simd) {
      const shapes = ins.map((t) => t.shape);
      const scratch = backend.makeOutput([kernel.simd.scratchFloats(shapes)], 'float32');
      const offset = (t: tf.TensorInfo) => heapOffset(backend, t);
      kernel.simd.run(simd, ins.map(offset), outs.map(offset), offset(scratch), shapes, attrs);
      backend.disposeData(scratch.dataId);
      return outs.length === 1 ? outs[0]! : outs;
    }
    const view = (t: tf.TensorInfo) => new Float32Array(backend.wasm.HEAPU8.buffer, heapOffset(backend, t), sizeOf(t.shape));
    kernel.compute(ins.map(view), outs.map(view), attrs);
    return outs.length === 1 ? outs[0]! : outs;
  }) as unknown as tf.KernelFunc;
}

function cpuKernelFunc(kernel: FusedKernel): tf.KernelFunc {
  return (({ inputs, backend, attrs }: { inputs: Record<string, tf.TensorInfo>; backend: CpuBackend; attrs: Record<string, unknown> }) => {
    const ins = kernel.inputNames.map((n) => inputs[n]!);
    const outArrays = kernel.outputShapes(ins).map((s) => new Float32Array(sizeOf(s)));
    kernel.compute(ins.map((t) => backend.data.get(t.dataId).values), outArrays, attrs);
    const shapes = kernel.outputShapes(ins);
    const outs = outArrays.map((a, i) => backend.makeTensorInfo(shapes[i]!, 'float32', a));
    return outs.length === 1 ? outs[0]! : outs;
  }) as unknown as tf.KernelFunc;
}

let registered = false;

/** Registers the fused kernels for wasm and cpu, and the gradients that use them. Idempotent. */
export function registerFusedTrainingOps(): void {
  if (registered) return;
  for (const kernel of KERNELS) {
    for (const backendName of ['wasm', 'cpu'] as const) {
      if (tf.getKernel(kernel.name, backendName)) continue;
      tf.registerKernel({ kernelName: kernel.name, backendName,
        kernelFunc: backendName === 'wasm' ? wasmKernelFunc(kernel) : cpuKernelFunc(kernel) });
    }
  }
  tf.registerGradient({
    kernelName: BATCH_NORM_TRAIN,
    inputsToSave: ['x', 'gamma', 'beta'],
    outputsToSave: [false, true, true],
    gradFunc: (dys, saved, attrs) => {
      const dy = Array.isArray(dys) ? dys[0]! : dys;
      const [x, gamma, beta, mean, variance] = saved as tf.Tensor[];
      const [dx, dgamma, dbeta] = tf.engine().runKernel(BATCH_NORM_TRAIN_GRAD,
        { dy, x: x!, gamma: gamma!, beta: beta!, mean: mean!, variance: variance! }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
      return { x: () => dx!, gamma: () => dgamma!, beta: () => dbeta! };
    },
  });
  tf.registerGradient({
    kernelName: LAYER_NORM,
    inputsToSave: ['x', 'gamma'],
    outputsToSave: [false, true, true],
    gradFunc: (dys, saved) => {
      const dy = Array.isArray(dys) ? dys[0]! : dys;
      const [x, gamma, mean, rstd] = saved as tf.Tensor[];
      const [dx, dgamma, dbeta] = tf.engine().runKernel(LAYER_NORM_GRAD,
        { dy, x: x!, gamma: gamma!, mean: mean!, rstd: rstd! }, {}) as tf.Tensor[];
      return { x: () => dx!, gamma: () => dgamma!, beta: () => dbeta! };
    },
  });
  // Replaces tfjs's Relu6 gradient (five kernels: lessEqual, step, mul, cast, mul) with one
  // kernel of the same meaning; backends without it keep the stock composition.
  tf.registerGradient({
    kernelName: 'Relu6',
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => {
      const [x] = saved as tf.Tensor[];
      const g = dy as tf.Tensor;
      if (tf.getKernel(RELU6_GRAD, tf.getBackend())) {
        return { x: () => tf.engine().runKernel(RELU6_GRAD, { dy: g, x: x! }, {}) as tf.Tensor };
      }
      return { x: () => tf.mul(g, tf.cast(tf.mul(tf.lessEqual(x!, 6), tf.step(x!)), 'float32')) };
    },
  });
  registered = true;
}
