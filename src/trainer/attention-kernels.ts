import * as tf from '@tensorflow/tfjs';
import { MASKED_SCORE, SELF_ATTENTION, SELF_ATTENTION_GRAD } from '../space/layers/index.js';
import { gemmPackFloats, type SimdKernels, simdKernels } from './simd-kernels.js';
import { type KernelAttrs, type KernelInputs, type WasmBackend, WasmKernelContext } from './wasm-backend-access.js';

/*
 * The self-attention kernels of MultiHeadSelfAttention on wasm. Every product is one strided SIMD
 * gemm over (batch, head) that reads q, k and v where the fused projection left them
 * ([batch, seq, 3, heads, dh]) and writes the context and the projection's gradient in the same
 * interleaved layouts, so no head split, merge or unstack copies run; the softmax and its gradient
 * are one pass each.
 */

/** Sizes of one attention call, and the score scale 1/√dh that the forward and backward passes share. */
interface Dims { B: number; T: number; D: number; H: number; dh: number; alpha: number }

function dims(qkv: tf.TensorInfo, attrs: KernelAttrs): Dims {
  const [B, T, D3] = qkv.shape as [number, number, number];
  const H = attrs.numHeads as number;
  const D = D3 / 3;
  return { B, T, D, H, dh: D / H, alpha: 1 / Math.sqrt(D / H) };
}

/** Pointers are byte offsets; strides are in floats. */
const F = 4;

/**
 * probs[b, h] = softmax(alpha · Q[b, :, h] · K[b, :, h]ᵀ + masked keys' penalty), for all (b, h).
 * The forward pass runs it and the backward pass runs it again: keeping the probabilities as a
 * second kernel output made tfjs's tape build (and copy into the heap) a zero gradient of the same
 * [B, H, T, T] size for that output on every step, which cost more than recomputing them.
 */
function attentionProbs(k: WasmKernelContext, simd: SimdKernels, qkv: tf.TensorInfo, mask: tf.TensorInfo, d: Dims, pack: number): tf.TensorInfo {
  const { B, T, D, H, dh, alpha } = d;
  const scores = k.alloc([B, H, T, T]);
  const q = k.offset(qkv);
  const row = 3 * D; // floats between positions in qkv
  // scores = alpha · Q·Kᵀ: op(B)[j, t'] = K[t', j], so B is read transposed (row stride 1).
  simd.gemm(q, q + D * F, k.offset(scores), pack, T, T, dh,
    row, 1, 1, row, T,
    B, H, T * row, dh, T * row, dh, H * T * T, T * T, alpha);
  const S = k.f32(scores);
  const Mk = k.f32(mask);
  for (let b = 0; b < B; b++) {
    for (let j = 0; j < T; j++) {
      const add = Math.fround((1 - Mk[b * T + j]!) * MASKED_SCORE);
      if (add === 0) continue;
      for (let i = b * H * T * T + j; i < (b + 1) * H * T * T; i += T) S[i] += add;
    }
  }
  const probs = k.run('Softmax', { logits: scores }, { dim: 3 });
  k.free(scores);
  return probs;
}

/** Scratch for the gemm's packed panels, big enough for every product of one call. */
const allocPack = (k: WasmKernelContext, { T, dh }: Dims) => k.alloc([gemmPackFloats(Math.max(T, dh), Math.max(T, dh))]);

/** context[b, t, h] = probs[b, h] · V[b, :, h], written straight into the merged [B, T, D] layout. */
function attentionForward(k: WasmKernelContext, simd: SimdKernels, inputs: KernelInputs, attrs: KernelAttrs): tf.TensorInfo {
  const { qkv, mask } = inputs as { qkv: tf.TensorInfo; mask: tf.TensorInfo };
  const d = dims(qkv, attrs);
  const { B, T, D, H, dh } = d;
  const context = k.alloc([B, T, D]);
  const pack = allocPack(k, d);
  const pk = k.offset(pack);
  const probs = attentionProbs(k, simd, qkv, mask, d, pk);
  const row = 3 * D;
  simd.gemm(k.offset(probs), k.offset(qkv) + 2 * D * F, k.offset(context), pk, T, dh, T,
    T, 1, row, 1, D,
    B, H, H * T * T, T * T, T * row, dh, T * D, dh, 1);
  k.free(probs, pack);
  return context;
}

/** dqkv from dy (the context's gradient), qkv and the mask; the probabilities are recomputed. */
function attentionBackward(k: WasmKernelContext, simd: SimdKernels, inputs: KernelInputs, attrs: KernelAttrs): tf.TensorInfo {
  const { dy, qkv, mask } = inputs as { dy: tf.TensorInfo; qkv: tf.TensorInfo; mask: tf.TensorInfo };
  const d = dims(qkv, attrs);
  const { B, T, D, H, dh, alpha } = d;
  const dqkv = k.alloc([B, T, 3 * D]);
  const dS = k.alloc([B, H, T, T]);
  const pack = allocPack(k, d);
  const pk = k.offset(pack);
  const probs = attentionProbs(k, simd, qkv, mask, d, pk);
  const q = k.offset(qkv);
  const g = k.offset(dqkv);
  const p = k.offset(probs);
  const s = k.offset(dS);
  const dyp = k.offset(dy);
  const row = 3 * D;
  const HTT = H * T * T;
  // dP = dY · Vᵀ
  simd.gemm(dyp, q + 2 * D * F, s, pk, T, T, dh, D, 1, 1, row, T, B, H, T * D, dh, T * row, dh, HTT, T * T, 1);
  // dScores through the softmax, times alpha: the gradient of Q·Kᵀ.
  simd.softmax_grad(p, s, B * H * T, T, alpha);
  // dQ = dS · K
  simd.gemm(s, q + D * F, g, pk, T, dh, T, T, 1, row, 1, row, B, H, HTT, T * T, T * row, dh, T * row, dh, 1);
  // dK = dSᵀ · Q
  simd.gemm(s, q, g + D * F, pk, T, dh, T, 1, T, row, 1, row, B, H, HTT, T * T, T * row, dh, T * row, dh, 1);
  // dV = Pᵀ · dY
  simd.gemm(p, dyp, g + 2 * D * F, pk, T, dh, T, 1, T, D, 1, row, B, H, HTT, T * T, T * D, dh, T * row, dh, 1);
  k.free(probs, dS, pack);
  return dqkv;
}

let registered = false;

/**
 * Registers the attention kernels for this wasm backend and their gradient; does nothing where the
 * SIMD module cannot load (MultiHeadSelfAttention then runs the stock composition). Idempotent.
 */
export function registerAttentionKernels(backend: WasmBackend): void {
  if (registered) return;
  const simd = simdKernels(backend);
  if (!simd) return;
  const ctx = new WasmKernelContext(backend, new Map());
  const kernel = (f: (k: WasmKernelContext, s: SimdKernels, i: KernelInputs, a: KernelAttrs) => tf.TensorInfo | tf.TensorInfo[]) =>
    ((args: { inputs: KernelInputs; attrs: KernelAttrs }) => f(ctx, simd, args.inputs, args.attrs)) as unknown as tf.KernelFunc;
  tf.registerKernel({ kernelName: SELF_ATTENTION, backendName: 'wasm', kernelFunc: kernel(attentionForward) });
  tf.registerKernel({ kernelName: SELF_ATTENTION_GRAD, backendName: 'wasm', kernelFunc: kernel(attentionBackward) });
  tf.registerGradient({
    kernelName: SELF_ATTENTION,
    inputsToSave: ['qkv', 'mask'],
    gradFunc: (dy, saved, attrs) => {
      const [qkv, mask] = saved as tf.Tensor[];
      const dqkv = () => tf.engine().runKernel(SELF_ATTENTION_GRAD, { dy: dy as tf.Tensor, qkv: qkv!, mask: mask! }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
      // The mask is data, not a weight: it gets a zero gradient.
      return { qkv: dqkv, mask: () => tf.zerosLike(mask!) };
    },
  });
  registered = true;
}
