import * as tf from '@tensorflow/tfjs';
import { registerAttentionKernels } from './attention-kernels.js';
import { registerAdamKernel } from './fused-adam.js';
import { gemmPackFloats, simdKernels } from './simd-kernels.js';
import { type ArrayKernelContext, CpuKernelContext, type KernelAttrs, type KernelImpl, type KernelInputs, sizeOf, type WasmBackend, WasmKernelContext } from './wasm-backend-access.js';

type Conv2DInfo = ReturnType<typeof tf.backend_util.computeConv2DInfo>;

/** Kernel names this module registers for wasm that tfjs-backend-wasm 4.22 lacks. */
export const ADDED_WASM_KERNELS = [
  'Conv2DBackpropFilter',
  'DepthwiseConv2dNativeBackpropFilter',
  'DepthwiseConv2dNativeBackpropInput',
  'UnsortedSegmentSum',
] as const;

/** Stock wasm kernels this module replaces with faster versions (they fall back to the stock one where it is fast). */
export const REPLACED_WASM_KERNELS = ['BatchMatMul', 'Sum', 'Mean', 'Conv2DBackpropInput', 'Transpose', 'Unpack', 'GatherV2', 'Identity', '_FusedMatMul'] as const;

function convInfo(xShape: number[], filterShape: number[], attrs: KernelAttrs, depthwise: boolean): Conv2DInfo {
  const dilations = (attrs.dilations as number | [number, number] | undefined) ?? 1;
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number], filterShape as [number, number, number, number],
    attrs.strides as [number, number], dilations, attrs.pad as 'same',
    attrs.dimRoundingMode as 'floor' | undefined, depthwise, 'channelsLast');
}

/**
 * Filter gradient of a 2-D convolution: gather the input patches transposed (one row per filter
 * tap and input channel, one column per output position), then one XNNPACK matrix product with
 * the output gradient gives the filter in [kh, kw, in, out] order directly.
 */
function conv2DBackpropFilter(k: ArrayKernelContext, inputs: KernelInputs, attrs: KernelAttrs): tf.TensorInfo {
  const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  if (attrs.dataFormat === 'NCHW') throw new Error('wasm Conv2DBackpropFilter supports NHWC only');
  const filterShape = attrs.filterShape as number[];
  const info = convInfo(x.shape, filterShape, attrs, false);
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW, outChannels: CO } = info;
  const { filterHeight: KH, filterWidth: KW, strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const pt = info.padInfo.top;
  const pl = info.padInfo.left;
  const P = N * OH * OW;
  const rows = KH * KW * C;
  const colsT = k.alloc([1, rows, P]);
  const A = k.f32(colsT);
  const X = k.f32(x);
  if (KH === 1 && KW === 1 && sh === 1 && sw === 1 && pt === 0 && pl === 0 && OH === H && OW === W) {
    transpose2d(X, A, P, C);
  } else {
    for (let kh = 0; kh < KH; kh++) {
      for (let kw = 0; kw < KW; kw++) {
        const tapRow = (kh * KW + kw) * C;
        for (let n = 0; n < N; n++) {
          for (let oy = 0; oy < OH; oy++) {
            const iy = oy * sh + kh * dh - pt;
            const pRow = (n * OH + oy) * OW;
            for (let ox = 0; ox < OW; ox++) {
              const ix = ox * sw + kw * dw - pl;
              const p = pRow + ox;
              if (iy < 0 || iy >= H || ix < 0 || ix >= W) {
                for (let c = 0; c < C; c++) A[(tapRow + c) * P + p] = 0;
              } else {
                const base = ((n * H + iy) * W + ix) * C;
                for (let c = 0; c < C; c++) A[(tapRow + c) * P + p] = X[base + c]!;
              }
            }
          }
        }
      }
    }
  }
  const dy3 = k.reshape(dy, [1, P, CO]);
  const prod = k.run('BatchMatMul', { a: colsT, b: dy3 }, { transposeA: false, transposeB: false });
  k.free(colsT, dy3);
  const out = k.reshape(prod, filterShape);
  k.free(prod);
  return out;
}

/**
 * Convolution filter gradient on wasm: 1×1 stride-1 convolutions (the expand and project layers of
 * inverted residuals) in the SIMD kernel, in place; other geometries gather patches and multiply
 * (conv2DBackpropFilter).
 */
function conv2DBackpropFilterWasm(k: WasmKernelContext, inputs: KernelInputs, attrs: KernelAttrs): tf.TensorInfo {
  const simd = simdKernels(k.backend);
  const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const filterShape = attrs.filterShape as number[];
  const [KH, KW, C, CO] = filterShape as [number, number, number, number];
  const strides = attrs.strides as number | [number, number];
  const [sh, sw] = Array.isArray(strides) ? strides : [strides, strides];
  const sameSize = x.shape[1] === dy.shape[1] && x.shape[2] === dy.shape[2];
  if (!simd || KH !== 1 || KW !== 1 || sh !== 1 || sw !== 1 || !sameSize || attrs.dataFormat === 'NCHW') {
    return conv2DBackpropFilter(k, inputs, attrs);
  }
  const out = k.alloc(filterShape);
  const scratch = k.alloc([3 * C * CO]); // out64 (C·CO doubles), then part (C·CO floats)
  const s = k.offset(scratch);
  simd.conv1x1_filter_grad(k.offset(x), k.offset(dy), k.offset(out), s + 8 * C * CO, s, sizeOf(x.shape) / C, C, CO);
  k.free(scratch);
  return out;
}

/** Copies a row-major [rows, cols] matrix into its transpose, in cache-sized tiles. */
function transpose2d(src: Float32Array, dst: Float32Array, rows: number, cols: number): void {
  const T = 32;
  for (let r0 = 0; r0 < rows; r0 += T) {
    const r1 = Math.min(r0 + T, rows);
    for (let c0 = 0; c0 < cols; c0 += T) {
      const c1 = Math.min(c0 + T, cols);
      for (let c = c0; c < c1; c++) {
        const d = c * rows;
        for (let r = r0; r < r1; r++) dst[d + r] = src[r * cols + c]!;
      }
    }
  }
}

/** Filter gradient of a depthwise convolution: per filter tap, the shifted input times the output gradient, summed over batch and space. */
function depthwiseBackpropFilter(k: ArrayKernelContext, inputs: KernelInputs, attrs: KernelAttrs): tf.TensorInfo {
  const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const filterShape = attrs.filterShape as number[];
  const info = convInfo(x.shape, filterShape, attrs, true);
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = info;
  const { filterHeight: KH, filterWidth: KW, strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const M = filterShape[3]!;
  const CM = C * M;
  const pt = info.padInfo.top;
  const pl = info.padInfo.left;
  // float64 accumulators: the sums run over batch × space (tens of thousands of terms).
  const acc = new Float64Array(KH * KW * CM);
  const X = k.f32(x);
  const DY = k.f32(dy);
  for (let n = 0; n < N; n++) {
    for (let oy = 0; oy < OH; oy++) {
      for (let ox = 0; ox < OW; ox++) {
        const dyBase = ((n * OH + oy) * OW + ox) * CM;
        for (let kh = 0; kh < KH; kh++) {
          const iy = oy * sh + kh * dh - pt;
          if (iy < 0 || iy >= H) continue;
          for (let kw = 0; kw < KW; kw++) {
            const ix = ox * sw + kw * dw - pl;
            if (ix < 0 || ix >= W) continue;
            const xBase = ((n * H + iy) * W + ix) * C;
            const wBase = (kh * KW + kw) * CM;
            if (M === 1) {
              for (let c = 0; c < C; c++) acc[wBase + c] += X[xBase + c]! * DY[dyBase + c]!;
            } else {
              for (let c = 0; c < C; c++) {
                const xv = X[xBase + c]!;
                const o = c * M;
                for (let m = 0; m < M; m++) acc[wBase + o + m] += xv * DY[dyBase + o + m]!;
              }
            }
          }
        }
      }
    }
  }
  const out = k.alloc(filterShape);
  k.f32(out).set(acc);
  return out;
}

/**
 * Depthwise filter gradient on wasm: the SIMD kernel (src/trainer/simd/kernels.c) reading the
 * tensors in place, for a channel multiplier of 1 (every depthwise layer the spaces build); the
 * typed-array loop otherwise, or where the SIMD module cannot load.
 */
function depthwiseBackpropFilterWasm(k: WasmKernelContext, inputs: KernelInputs, attrs: KernelAttrs): tf.TensorInfo {
  const simd = simdKernels(k.backend);
  const filterShape = attrs.filterShape as number[];
  if (!simd || filterShape[3] !== 1 || attrs.dataFormat === 'NCHW') return depthwiseBackpropFilter(k, inputs, attrs);
  const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const info = convInfo(x.shape, filterShape, attrs, true);
  const taps = info.filterHeight * info.filterWidth * info.inChannels;
  const out = k.alloc(filterShape);
  const scratch = k.alloc([3 * taps]); // out64 (taps doubles), then taps floats
  const s = k.offset(scratch);
  simd.dw_filter_grad(k.offset(x), k.offset(dy), k.offset(out), s + 8 * taps, s, info.batchSize, info.inHeight, info.inWidth, info.inChannels,
    info.outHeight, info.outWidth, info.filterHeight, info.filterWidth, info.strideHeight, info.strideWidth,
    info.dilationHeight, info.dilationWidth, info.padInfo.top, info.padInfo.left);
  k.free(scratch);
  return out;
}

/**
 * Input gradient of a depthwise convolution: zero-insert the output gradient for the stride, pad
 * it for a full correlation, and run the wasm depthwise convolution with the spatially flipped
 * filter; with a channel multiplier the per-multiplier results are summed per input channel.
 */
function depthwiseBackpropInput(k: WasmKernelContext, inputs: KernelInputs, attrs: KernelAttrs): tf.TensorInfo {
  const { dy, filter } = inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const inputShape = attrs.inputShape as number[];
  const info = convInfo(inputShape, filter.shape, attrs, true);
  const simd = simdKernels(k.backend);
  if (simd && filter.shape[3] === 1 && attrs.dataFormat !== 'NCHW') {
    // The SIMD scatter kernel, in place (every depthwise layer the spaces build has multiplier 1).
    const out = k.alloc(inputShape);
    simd.dw_input_grad(k.offset(dy), k.offset(filter), k.offset(out), info.batchSize, info.inHeight, info.inWidth, info.inChannels,
      info.outHeight, info.outWidth, info.filterHeight, info.filterWidth, info.strideHeight, info.strideWidth,
      info.dilationHeight, info.dilationWidth, info.padInfo.top, info.padInfo.left);
    return out;
  }
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = info;
  const { filterHeight: KH, filterWidth: KW, strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const M = filter.shape[3]!;
  const CM = C * M;
  const padTop = (KH - 1) * dh - info.padInfo.top;
  const padLeft = (KW - 1) * dw - info.padInfo.left;
  const HP = H + (KH - 1) * dh;
  const WP = W + (KW - 1) * dw;
  const padded = k.alloc([N, HP, WP, CM]);
  const flipped = k.alloc([KH, KW, CM, 1]);
  {
    const P = k.f32(padded);
    P.fill(0);
    const DY = k.f32(dy);
    for (let n = 0; n < N; n++) {
      for (let oy = 0; oy < OH; oy++) {
        const y = padTop + oy * sh;
        if (y < 0 || y >= HP) continue;
        for (let ox = 0; ox < OW; ox++) {
          const xx = padLeft + ox * sw;
          if (xx < 0 || xx >= WP) continue;
          const src = ((n * OH + oy) * OW + ox) * CM;
          P.set(DY.subarray(src, src + CM), ((n * HP + y) * WP + xx) * CM);
        }
      }
    }
    const F = k.f32(filter);
    const FF = k.f32(flipped);
    for (let kh = 0; kh < KH; kh++) {
      for (let kw = 0; kw < KW; kw++) {
        const dst = (kh * KW + kw) * CM;
        const src = ((KH - 1 - kh) * KW + (KW - 1 - kw)) * CM;
        FF.set(F.subarray(src, src + CM), dst);
      }
    }
  }
  const full = k.run('DepthwiseConv2dNative', { x: padded, filter: flipped },
    { strides: [1, 1], dilations: [dh, dw], pad: 'valid' });
  k.free(padded, flipped);
  if (M === 1) return full;
  const out = k.alloc([N, H, W, C]);
  const S = k.f32(full);
  const O = k.f32(out);
  for (let i = 0, o = 0; o < O.length; o++) {
    let s = 0;
    for (let m = 0; m < M; m++) s += S[i++]!;
    O[o] = s;
  }
  k.free(full);
  return out;
}

/** Sums rows of `x` into `numSegments` rows by segment id (the embedding gradient); out-of-range ids are dropped. */
function unsortedSegmentSum(k: ArrayKernelContext, inputs: KernelInputs, attrs: KernelAttrs): tf.TensorInfo {
  const { x, segmentIds } = inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
  const numSegments = attrs.numSegments as number;
  const rows = segmentIds.shape.length === 0 ? 1 : sizeOf(segmentIds.shape);
  const width = sizeOf(x.shape) / rows;
  const outShape = [numSegments, ...x.shape.slice(segmentIds.shape.length)];
  const out = k.alloc(outShape, x.dtype);
  const ids = k.i32(segmentIds);
  const X = x.dtype === 'int32' ? k.i32(x) : k.f32(x);
  const O = x.dtype === 'int32' ? k.i32(out) : k.f32(out);
  O.fill(0);
  for (let r = 0; r < rows; r++) {
    const s = ids[r]!;
    if (s < 0 || s >= numSegments) continue;
    const src = r * width;
    const dst = s * width;
    for (let j = 0; j < width; j++) O[dst + j] += X[src + j]!;
  }
  return out;
}

/**
 * Batched and transposed matrix products. With the SIMD module, one strided `gemm` call reads the
 * operands in place whatever their transposes, batch or broadcast (stock wasm sends only batch-1,
 * non-transposed products to XNNPACK and runs the rest in a naive loop). Without it, transpose
 * operands on the JS side and run one XNNPACK product per batch entry on zero-copy views.
 */
function batchMatMul(k: WasmKernelContext, inputs: KernelInputs, attrs: KernelAttrs): tf.TensorInfo {
  const { a, b } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  const transposeA = Boolean(attrs.transposeA);
  const transposeB = Boolean(attrs.transposeB);
  const ra = a.shape.length;
  const rb = b.shape.length;
  const batchA = sizeOf(a.shape.slice(0, -2));
  const batchB = sizeOf(b.shape.slice(0, -2));
  const outer = tf.backend_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const batch = sizeOf(outer);
  const plain = !transposeA && !transposeB && batch === 1;
  const stockBroadcast = batchA !== batchB && batchA !== 1 && batchB !== 1;
  const simd = simdKernels(k.backend);
  if (stockBroadcast || a.dtype !== 'float32' || (plain && !simd)) return k.run('BatchMatMul', inputs, attrs);
  const M = transposeA ? a.shape[ra - 1]! : a.shape[ra - 2]!;
  const K = transposeA ? a.shape[ra - 2]! : a.shape[ra - 1]!;
  const N = transposeB ? b.shape[rb - 2]! : b.shape[rb - 1]!;
  if (simd) {
    const out = k.alloc([...outer, M, N]);
    if (sizeOf(out.shape) === 0) return out;
    const pack = k.alloc([gemmPackFloats(K, N)]);
    simd.gemm(k.offset(a), k.offset(b), k.offset(out), k.offset(pack), M, N, K,
      transposeA ? 1 : K, transposeA ? M : 1, transposeB ? 1 : N, transposeB ? K : 1, N,
      batch, 1, batchA === 1 ? 0 : M * K, 0, batchB === 1 ? 0 : K * N, 0, M * N, 0, 1);
    k.free(pack);
    return out;
  }
  const aN = transposeA ? batchTranspose(k, a, batchA, K, M) : a;
  const bN = transposeB ? batchTranspose(k, b, batchB, N, K) : b;
  const out = k.alloc([...outer, M, N]);
  for (let i = 0; i < batch; i++) {
    const av = k.view(aN, (batchA === 1 ? 0 : i) * M * K, [1, M, K]);
    const bv = k.view(bN, (batchB === 1 ? 0 : i) * K * N, [1, K, N]);
    const r = k.run('BatchMatMul', { a: av, b: bv }, { transposeA: false, transposeB: false });
    k.f32(out).set(k.f32(r), i * M * N);
    k.free(r);
    k.freeView(av);
    k.freeView(bv);
  }
  if (aN !== a) k.free(aN);
  if (bN !== b) k.free(bN);
  return out;
}

function batchTranspose(k: WasmKernelContext, t: tf.TensorInfo, batch: number, rows: number, cols: number): tf.TensorInfo {
  const out = k.alloc([batch, cols, rows]);
  const S = k.f32(t);
  const D = k.f32(out);
  const n = rows * cols;
  for (let i = 0; i < batch; i++) transpose2d(S.subarray(i * n, (i + 1) * n), D.subarray(i * n, (i + 1) * n), rows, cols);
  return out;
}

/**
 * Sum or mean over a contiguous run of axes that is not innermost (e.g. over batch and space):
 * stock wasm transposes first, at several ns per element; one pass with row accumulators is faster.
 */
function reduceContiguous(k: WasmKernelContext, name: 'Sum' | 'Mean', inputs: KernelInputs, attrs: KernelAttrs): tf.TensorInfo {
  const { x } = inputs as { x: tf.TensorInfo };
  const rank = x.shape.length;
  const rawAxes = attrs.axis as number | number[];
  const axes = [...new Set((Array.isArray(rawAxes) ? rawAxes : [rawAxes]).map((a) => (a < 0 ? a + rank : a)))].sort((p, q) => p - q);
  const contiguous = axes.length > 0 && axes.every((a, i) => a === axes[0]! + i);
  const last = axes[axes.length - 1]!;
  if (x.dtype !== 'float32' || !contiguous || last === rank - 1) return k.run(name, inputs, attrs);
  const outerN = sizeOf(x.shape.slice(0, axes[0]));
  const redN = sizeOf(x.shape.slice(axes[0], last + 1));
  const innerN = sizeOf(x.shape.slice(last + 1));
  const outShape = attrs.keepDims
    ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d))
    : x.shape.filter((_, i) => !axes.includes(i));
  const out = k.alloc(outShape);
  const simd = simdKernels(k.backend);
  if (simd && sizeOf(outShape) > 0) {
    const scratch = k.alloc([3 * innerN]); // s64 (innerN doubles), then part (innerN floats)
    const s = k.offset(scratch);
    simd.reduce_rows(k.offset(x), k.offset(out), s + 8 * innerN, s, outerN, redN, innerN, name === 'Mean' ? 1 / redN : 1);
    k.free(scratch);
    return out;
  }
  const X = k.f32(x);
  const O = k.f32(out);
  const acc = new Float64Array(innerN);
  const scale = name === 'Mean' ? 1 / redN : 1;
  for (let o = 0; o < outerN; o++) {
    acc.fill(0);
    let base = o * redN * innerN;
    for (let r = 0; r < redN; r++, base += innerN) {
      for (let j = 0; j < innerN; j++) acc[j] += X[base + j]!;
    }
    const dst = o * innerN;
    for (let j = 0; j < innerN; j++) O[dst + j] = acc[j]! * scale;
  }
  return out;
}

/**
 * Input gradient of a 1×1, stride-1 convolution as one XNNPACK product dy · Wᵀ (the stock kernel
 * is a naive loop); other geometries go to the stock kernel.
 */
function conv2DBackpropInput(k: WasmKernelContext, inputs: KernelInputs, attrs: KernelAttrs): tf.TensorInfo {
  const { dy, filter } = inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const inputShape = attrs.inputShape as number[];
  const [KH, KW, C, CO] = filter.shape as [number, number, number, number];
  const strides = attrs.strides as number | [number, number];
  const [sh, sw] = Array.isArray(strides) ? strides : [strides, strides];
  const sameSize = inputShape[1] === dy.shape[1] && inputShape[2] === dy.shape[2];
  if (KH !== 1 || KW !== 1 || sh !== 1 || sw !== 1 || !sameSize || attrs.dataFormat === 'NCHW' || typeof attrs.pad === 'object') {
    return k.run('Conv2DBackpropInput', inputs, attrs);
  }
  const P = sizeOf(dy.shape) / CO;
  const wT = k.alloc([1, CO, C]);
  transpose2d(k.f32(filter), k.f32(wT), C, CO);
  const dy3 = k.reshape(dy, [1, P, CO]);
  const prod = k.run('BatchMatMul', { a: dy3, b: wT }, { transposeA: false, transposeB: false });
  k.free(wT, dy3);
  const out = k.reshape(prod, inputShape);
  k.free(prod);
  return out;
}

/**
 * Transpose as one pass: odometer over the output rows, strided reads along the last output axis
 * (contiguous when the permutation keeps the last axis, as the attention head split does). The
 * stock kernel costs several ns per element.
 */
function transpose(k: WasmKernelContext, inputs: KernelInputs, attrs: KernelAttrs): tf.TensorInfo {
  const { x } = inputs as { x: tf.TensorInfo };
  const perm = attrs.perm as number[];
  // tfjs-layers' dense on a rank-3 input transposes its kernel by the identity permutation.
  if (x.dtype !== 'string' && perm.every((p, i) => p === i)) return k.reshape(x, x.shape);
  if (x.dtype !== 'float32' && x.dtype !== 'int32') return k.run('Transpose', inputs, attrs);
  const rank = x.shape.length;
  const outShape = perm.map((p) => x.shape[p]!);
  const out = k.alloc(outShape, x.dtype);
  const X = x.dtype === 'int32' ? k.i32(x) : k.f32(x);
  const O = x.dtype === 'int32' ? k.i32(out) : k.f32(out);
  if (rank === 0 || O.length === 0) { O.set(X); return out; }
  const inStrides = new Array<number>(rank);
  inStrides[rank - 1] = 1;
  for (let i = rank - 2; i >= 0; i--) inStrides[i] = inStrides[i + 1]! * x.shape[i + 1]!;
  const stride = perm.map((p) => inStrides[p]!);
  const last = outShape[rank - 1]!;
  const lastStride = stride[rank - 1]!;
  const idx = new Array<number>(rank).fill(0);
  let base = 0;
  for (let o = 0; o < O.length;) {
    if (lastStride === 1) {
      O.set(X.subarray(base, base + last), o);
      o += last;
    } else {
      for (let j = 0, src = base; j < last; j++, src += lastStride) O[o++] = X[src]!;
    }
    for (let d = rank - 2; d >= 0; d--) {
      idx[d]!++;
      base += stride[d]!;
      if (idx[d]! < outShape[d]!) break;
      base -= stride[d]! * outShape[d]!;
      idx[d] = 0;
    }
  }
  return out;
}

/** Unstack as contiguous block copies (stock wasm slices each output element by element). */
function unpack(k: WasmKernelContext, inputs: KernelInputs, attrs: KernelAttrs): tf.TensorInfo[] {
  const { value } = inputs as { value: tf.TensorInfo };
  const rank = value.shape.length;
  const axis = ((attrs.axis as number) + rank) % rank;
  const num = value.shape[axis]!;
  const outShape = value.shape.filter((_, i) => i !== axis);
  const outer = sizeOf(value.shape.slice(0, axis));
  const inner = sizeOf(value.shape.slice(axis + 1));
  const outs = Array.from({ length: num }, () => k.alloc(outShape, value.dtype));
  const X = value.dtype === 'int32' ? k.i32(value) : k.f32(value);
  for (let i = 0; i < num; i++) {
    const O = value.dtype === 'int32' ? k.i32(outs[i]!) : k.f32(outs[i]!);
    for (let o = 0; o < outer; o++) {
      const src = (o * num + i) * inner;
      O.set(X.subarray(src, src + inner), o * inner);
    }
  }
  return outs;
}

/** Activations the fused-product epilogue applies, by bias_act's code. */
const EPILOGUE_ACTIVATIONS: Record<string, number> = { linear: 0, relu: 1, relu6: 2 };

/**
 * Dense layers' fused product (matMul + bias + linear, ReLU or ReLU6) as the SIMD gemm and one
 * epilogue pass. The stock kernel runs XNNPACK only for batch-1 untransposed products; its other
 * path adds the wrong bias element past the first row. Other activations, PReLU weights or a bias
 * that is not one value per output column still go to the stock kernel.
 */
function fusedMatMul(k: WasmKernelContext, inputs: KernelInputs, attrs: KernelAttrs): tf.TensorInfo {
  const { a, b, bias, preluActivationWeights } = inputs as Record<'a' | 'b' | 'bias' | 'preluActivationWeights', tf.TensorInfo | undefined>;
  const activation = (attrs.activation as string | undefined) ?? 'linear';
  const simd = simdKernels(k.backend);
  const N = attrs.transposeB ? b!.shape[b!.shape.length - 2]! : b!.shape[b!.shape.length - 1]!;
  const act = EPILOGUE_ACTIVATIONS[activation];
  const supported = simd && a!.dtype === 'float32' && !preluActivationWeights && act !== undefined
    && (!bias || (bias.dtype === 'float32' && sizeOf(bias.shape) === N && bias.shape[bias.shape.length - 1] === N));
  if (!supported) return k.run('_FusedMatMul', inputs, attrs);
  const out = batchMatMul(k, { a: a!, b: b! }, { transposeA: attrs.transposeA, transposeB: attrs.transposeB });
  if (sizeOf(out.shape) > 0 && (bias || act > 0)) simd.bias_act(k.offset(out), bias ? k.offset(bias) : 0, sizeOf(out.shape) / N, N, act);
  return out;
}

/**
 * Gather along axis 0 without batch dimensions (the embedding lookup) as one block copy per index;
 * the stock kernel checks each index through a closure and copies element by element. Other gathers
 * go to the stock kernel.
 */
function gatherRows(k: WasmKernelContext, inputs: KernelInputs, attrs: KernelAttrs): tf.TensorInfo {
  const { x, indices } = inputs as { x: tf.TensorInfo; indices: tf.TensorInfo };
  const rank = x.shape.length;
  const given = (attrs.axis as number | undefined) ?? 0;
  const axis = given < 0 ? given + rank : given;
  const simple = axis === 0 && !attrs.batchDims && rank >= 1 && indices.dtype === 'int32' && (x.dtype === 'float32' || x.dtype === 'int32');
  if (!simple) return k.run('GatherV2', inputs, attrs);
  const rows = x.shape[0]!;
  const width = sizeOf(x.shape.slice(1));
  const count = sizeOf(indices.shape);
  const out = k.alloc([...indices.shape, ...x.shape.slice(1)], x.dtype);
  const ids = k.i32(indices);
  const X = x.dtype === 'int32' ? k.i32(x) : k.f32(x);
  const O = x.dtype === 'int32' ? k.i32(out) : k.f32(out);
  for (let i = 0; i < count; i++) {
    const r = ids[i]!;
    if (!(r >= 0 && r < rows)) {
      k.free(out);
      throw new Error(`GatherV2: the index value ${r} is not in [0, ${rows - 1}]`);
    }
    O.set(X.subarray(r * width, (r + 1) * width), i * width);
  }
  return out;
}

/** Identity as a reference to the same data (as the cpu backend does); the stock wasm kernel copies. */
function identity(k: WasmKernelContext, inputs: KernelInputs, attrs: KernelAttrs): tf.TensorInfo {
  const { x } = inputs as { x: tf.TensorInfo };
  return x.dtype === 'string' ? k.run('Identity', inputs, attrs) : k.reshape(x, x.shape);
}

let registered = false;
let cpuRegistered = false;

/** Kernels of the pure-JS cpu backend that read every element through a generic accessor or copy per segment. */
export const REPLACED_CPU_KERNELS = ['Conv2DBackpropFilter', 'DepthwiseConv2dNativeBackpropFilter', 'UnsortedSegmentSum'] as const;

/** Registers `impls` for `backendName` in place of whatever is registered under those names, each called with `ctx`. */
function replaceKernels<K extends ArrayKernelContext>(backendName: 'cpu' | 'wasm', ctx: K,
  impls: Record<string, (k: K, inputs: KernelInputs, attrs: KernelAttrs) => tf.TensorInfo | tf.TensorInfo[]>): void {
  for (const [kernelName, impl] of Object.entries(impls)) {
    if (tf.getKernel(kernelName, backendName)) tf.unregisterKernel(kernelName, backendName);
    tf.registerKernel({
      kernelName,
      backendName,
      kernelFunc: ((args: { inputs: KernelInputs; attrs: KernelAttrs }) => impl(ctx, args.inputs, args.attrs)) as unknown as tf.KernelFunc,
    });
  }
}

/**
 * Replaces the cpu backend's slowest training kernels with the same typed-array kernels wasm
 * uses (the filter gradient's matrix product runs on cpu's own BatchMatMul). Only for when cpu
 * is the backend chosen; idempotent.
 */
export function registerCpuTrainingKernels(): void {
  if (cpuRegistered) return;
  const backend = tf.findBackend('cpu');
  if (!backend) throw new Error('registerCpuTrainingKernels needs the cpu backend');
  const ctx = new CpuKernelContext(backend as never, new Map());
  const impls: Record<(typeof REPLACED_CPU_KERNELS)[number], (k: ArrayKernelContext, inputs: KernelInputs, attrs: KernelAttrs) => tf.TensorInfo> = {
    Conv2DBackpropFilter: conv2DBackpropFilter,
    DepthwiseConv2dNativeBackpropFilter: depthwiseBackpropFilter,
    UnsortedSegmentSum: unsortedSegmentSum,
  };
  replaceKernels('cpu', ctx, impls);
  cpuRegistered = true;
}

/**
 * Registers greennas's training kernels for the wasm backend: the four that tfjs-backend-wasm
 * lacks, and faster replacements for stock kernels that dominate training time. Call after
 * `tf.setBackend('wasm')` resolved; calling it again is a no-op.
 */
export function registerWasmTrainingKernels(): void {
  if (registered) return;
  const backend = tf.findBackend('wasm') as unknown as WasmBackend | null;
  if (!backend) throw new Error('registerWasmTrainingKernels needs the wasm backend initialised first');
  const stock = new Map<string, KernelImpl>();
  for (const name of REPLACED_WASM_KERNELS) {
    const config = tf.getKernel(name, 'wasm');
    if (!config) throw new Error(`stock wasm kernel ${name} is missing`);
    stock.set(name, config.kernelFunc as unknown as KernelImpl);
  }
  const ctx = new WasmKernelContext(backend, stock);
  const impls: Record<string, (k: WasmKernelContext, inputs: KernelInputs, attrs: KernelAttrs) => tf.TensorInfo | tf.TensorInfo[]> = {
    Conv2DBackpropFilter: conv2DBackpropFilterWasm,
    DepthwiseConv2dNativeBackpropFilter: depthwiseBackpropFilterWasm,
    DepthwiseConv2dNativeBackpropInput: depthwiseBackpropInput,
    UnsortedSegmentSum: unsortedSegmentSum,
    BatchMatMul: batchMatMul,
    Sum: (k, i, a) => reduceContiguous(k, 'Sum', i, a),
    Mean: (k, i, a) => reduceContiguous(k, 'Mean', i, a),
    Conv2DBackpropInput: conv2DBackpropInput,
    Transpose: transpose,
    GatherV2: gatherRows,
    _FusedMatMul: fusedMatMul,
    Identity: identity,
    Unpack: (k, i, a) => (i.value!.dtype === 'float32' || i.value!.dtype === 'int32' ? unpack(k, i, a) : k.run('Unpack', i, a)),
  };
  replaceKernels('wasm', ctx, impls);
  registerAttentionKernels(backend);
  registerAdamKernel(backend);
  registered = true;
}
