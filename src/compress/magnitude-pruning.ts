import * as tf from '@tensorflow/tfjs';
import { UserError } from '../core/index.js';
import { cloneModel } from './model-rebuild.js';

/** Layers whose kernels global magnitude pruning considers (biases, norms and embeddings are left dense). */
const PRUNABLE_KERNELS: Record<string, string> = { Conv2D: 'kernel', DepthwiseConv2D: 'depthwise_kernel', Dense: 'kernel' };

/** Fixed zero patterns of a pruned model's kernels: keep them applied while fine-tuning. */
export interface WeightMasks {
  /** One entry per pruned kernel: the model's variable and a 0/1 mask of its shape. */
  entries: { variable: tf.LayerVariable; mask: tf.Tensor }[];
  /** Multiplies every kernel by its mask again (after each optimiser step, so zeros stay zero). */
  apply(): void;
  /** Frees the mask tensors. */
  dispose(): void;
}

/** What pruneMagnitude returns. */
export interface MagnitudePruneResult {
  /** A copy of the model with the smallest kernel weights set to zero. */
  model: tf.LayersModel;
  /** The zero pattern, bound to the copy's variables. */
  masks: WeightMasks;
  /** Kernel weights set to zero over kernel weights considered (what was achieved, ties included). */
  actualSparsity: number;
  /** Kernel weights considered. */
  kernelWeights: number;
  /** Kernel weights now zero. */
  zeroWeights: number;
}

/** Whether a weight is a prunable kernel; `originalName` because tfjs suffixes `name` to keep it unique across models. */
function isPrunableKernel(layer: tf.layers.Layer, w: tf.LayerVariable): boolean {
  const suffix = PRUNABLE_KERNELS[layer.getClassName()];
  return suffix !== undefined && w.trainable && w.originalName.endsWith(`/${suffix}`);
}

function weightKey(layer: tf.layers.Layer, index: number): string {
  return `${layer.name}#${index}`;
}

/** Binds masks to variables; apply() re-zeroes the masked weights. */
export function createWeightMasks(entries: WeightMasks['entries']): WeightMasks {
  return {
    entries,
    apply() {
      for (const { variable, mask } of entries) {
        tf.tidy(() => { variable.write(tf.mul(variable.read(), mask)); });
      }
    },
    dispose() {
      for (const { mask } of entries) mask.dispose();
    },
  };
}

/**
 * Global unstructured magnitude pruning: over all Conv2D, DepthwiseConv2D and Dense kernels together,
 * the fraction `sparsity` of weights with the smallest |w| become zero (one threshold for the whole
 * network, so layers with many small weights lose more). Returns a pruned copy with the masks that
 * keep those zeros during fine-tuning. Dense kernels still multiply by the zeros: unstructured
 * sparsity lowers the nonzero count and the compressed size, not tfjs's latency.
 */
export function pruneMagnitude(model: tf.LayersModel, sparsity: number): MagnitudePruneResult {
  if (!(Number.isFinite(sparsity) && sparsity >= 0 && sparsity < 1)) {
    throw new UserError(`--sparsity must be a fraction in [0, 1), got ${sparsity}. Fix: pass e.g. --sparsity 0.5.`, { subject: '--sparsity' });
  }
  const kernels = model.layers.flatMap((l) => l.weights.flatMap((w, i) => (isPrunableKernel(l, w) ? [{ key: weightKey(l, i), w }] : [])));
  const total = kernels.reduce((n, { w }) => n + w.shape.reduce<number>((a, d) => a * (d ?? 1), 1), 0);
  const all = new Float32Array(total);
  let o = 0;
  for (const { w } of kernels) {
    const v = w.read().dataSync();
    for (let i = 0; i < v.length; i++) all[o++] = Math.abs(v[i] as number);
  }
  const k = Math.floor(total * sparsity);
  // The k-th smallest magnitude is the threshold; exactly k weights are cut (ties broken by position).
  const sorted = all.slice().sort();
  const threshold = k > 0 ? (sorted[k - 1] as number) : -1;
  let tiesLeft = k - sorted.subarray(0, k).filter((v) => v < threshold).length;
  const keepMask = new Map<string, Float32Array>();
  o = 0;
  for (const { key, w } of kernels) {
    const n = w.shape.reduce<number>((a, d) => a * (d ?? 1), 1);
    const m = new Float32Array(n);
    for (let i = 0; i < n; i++, o++) {
      const a = all[o] as number;
      if (a < threshold) m[i] = 0;
      else if (a === threshold && tiesLeft > 0) {
        m[i] = 0;
        tiesLeft--;
      } else m[i] = 1;
    }
    keepMask.set(key, m);
  }
  const pruned = cloneModel(model, (layer, index, value) => {
    const m = keepMask.get(weightKey(layer, index));
    return m ? tf.mul(value, tf.tensor(m, value.shape)) : value;
  });
  const entries = pruned.layers.flatMap((l) => l.weights.flatMap((variable, i) => {
    const m = keepMask.get(weightKey(l, i));
    return m ? [{ variable, mask: tf.tensor(m, variable.shape as number[]) }] : [];
  }));
  const zeroWeights = countZeroKernelWeights(pruned).zero;
  return { model: pruned, masks: createWeightMasks(entries), actualSparsity: total ? zeroWeights / total : 0, kernelWeights: total, zeroWeights };
}

/** Kernel weights (Conv2D, DepthwiseConv2D, Dense) that are exactly zero, and how many there are in all. */
export function countZeroKernelWeights(model: tf.LayersModel): { zero: number; total: number } {
  let zero = 0;
  let total = 0;
  for (const l of model.layers) {
    for (const w of l.weights.filter((x) => isPrunableKernel(l, x))) {
      const v = w.read().dataSync();
      total += v.length;
      for (let i = 0; i < v.length; i++) if (v[i] === 0) zero++;
    }
  }
  return { zero, total };
}

/** Trainable parameters that are not exactly zero (what a sparse format would have to store). */
export function countNonzeroParams(model: tf.LayersModel): number {
  let n = 0;
  for (const w of model.trainableWeights) {
    const v = w.read().dataSync();
    for (let i = 0; i < v.length; i++) if (v[i] !== 0) n++;
  }
  return n;
}
