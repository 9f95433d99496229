import type { MetricSpec, MetricValue } from '../core/index.js';
import type { Cost } from './search-space.js';

/*
 * Counting conventions, shared by every built-in space so their numbers compare:
 * - `params` counts trainable weights only (a BatchNormalization layer adds gamma and beta; its moving
 *   mean and variance are state, not parameters, and are counted separately as `stateParams`).
 * - `macs` counts the multiply-adds of convolutions, dense/linear maps and attention matmuls for ONE
 *   sample. Element-wise work (normalisation, activations, residual adds, gates, pooling, softmax,
 *   bias adds) is left out, as in the MobileNet/MnasNet papers, because at inference it is folded or
 *   memory-bound and is a rounding error next to the matmuls.
 */

/** A running total of trainable parameters, non-trainable state and multiply-adds. */
export interface CostTally extends Cost {
  /** Non-trainable weights a built model also holds (BatchNormalization moving mean and variance). */
  stateParams: number;
}

/** An empty tally. */
export function zeroCost(): CostTally {
  return { params: 0, macs: 0, stateParams: 0 };
}

/** Sums tallies. */
export function addCosts(...parts: readonly CostTally[]): CostTally {
  const total = zeroCost();
  for (const p of parts) {
    total.params += p.params;
    total.macs += p.macs;
    total.stateParams += p.stateParams;
  }
  return total;
}

/** Output length of a convolution/pooling along one axis, as tfjs computes it. */
export function convOutputSize(inSize: number, kernel: number, stride: number, padding: 'same' | 'valid'): number {
  return padding === 'same' ? Math.ceil(inSize / stride) : Math.ceil((inSize - kernel + 1) / stride);
}

/** Shape and options of a 2-D convolution, for counting. */
export interface Conv2dShape {
  /** Input height and width. */
  inH: number;
  inW: number;
  /** Input channels. */
  inC: number;
  /** Output channels (for a depthwise convolution: inC × depth multiplier; pass inC). */
  outC: number;
  /** Square kernel size. */
  kernel: number;
  /** Stride on both axes. */
  stride: number;
  /** Padding mode; `same` unless stated. */
  padding?: 'same' | 'valid';
  /** Whether the layer has a bias. */
  useBias: boolean;
  /** A depthwise convolution (one k×k filter per input channel). */
  depthwise?: boolean;
}

/** Output spatial size of a 2-D convolution. */
export function conv2dOutput(s: Conv2dShape): { outH: number; outW: number } {
  const padding = s.padding ?? 'same';
  return { outH: convOutputSize(s.inH, s.kernel, s.stride, padding), outW: convOutputSize(s.inW, s.kernel, s.stride, padding) };
}

/** Parameters and multiply-adds of a standard or depthwise 2-D convolution. */
export function conv2dCost(s: Conv2dShape): CostTally {
  const { outH, outW } = conv2dOutput(s);
  const k2 = s.kernel * s.kernel;
  if (s.depthwise) {
    if (s.outC % s.inC !== 0) throw new RangeError(`depthwise outC ${s.outC} is not a multiple of inC ${s.inC}`);
    return { params: k2 * s.outC + (s.useBias ? s.outC : 0), macs: outH * outW * k2 * s.outC, stateParams: 0 };
  }
  return {
    params: k2 * s.inC * s.outC + (s.useBias ? s.outC : 0),
    macs: outH * outW * k2 * s.inC * s.outC,
    stateParams: 0,
  };
}

/**
 * A dense (linear) map applied to `positions` vectors of length `inUnits` (1 for a flat input, the
 * sequence length for a [seq, features] input).
 */
export function denseCost(inUnits: number, outUnits: number, useBias = true, positions = 1): CostTally {
  return { params: inUnits * outUnits + (useBias ? outUnits : 0), macs: positions * inUnits * outUnits, stateParams: 0 };
}

/** BatchNormalization over `channels`: gamma and beta train; moving mean and variance are state. */
export function batchNormCost(channels: number): CostTally {
  return { params: 2 * channels, macs: 0, stateParams: 2 * channels };
}

/** LayerNormalization over `features`: gamma and beta. */
export function layerNormCost(features: number): CostTally {
  return { params: 2 * features, macs: 0, stateParams: 0 };
}

/** An embedding table: a lookup, so no multiply-adds. */
export function embeddingCost(vocabSize: number, dim: number): CostTally {
  return { params: vocabSize * dim, macs: 0, stateParams: 0 };
}

/**
 * Multi-head self-attention over `seqLen` tokens of width `dModel` with biased Q, K, V and output
 * projections. Heads split dModel, so the count does not depend on the number of heads: Q·Kᵀ and
 * softmax(·)·V each cost seqLen² × dModel multiply-adds summed over heads.
 */
export function selfAttentionCost(seqLen: number, dModel: number): CostTally {
  const projections = 4 * (dModel * dModel + dModel);
  return { params: projections, macs: 4 * seqLen * dModel * dModel + 2 * seqLen * seqLen * dModel, stateParams: 0 };
}

/** The metric specs every trained space reports from its cost: params and macs, both minimised. */
export function costMetricSpecs(): MetricSpec[] {
  return [
    { name: 'params', direction: 'minimize', unit: 'count', description: 'trainable parameters of the built model' },
    { name: 'macs', direction: 'minimize', unit: 'count', description: 'multiply-adds per sample (FLOPs ≈ 2 × MACs)' },
  ];
}

/** Turns a Cost into metric values marked `computed` (exact counts, not measurements). */
export function costMetricValues(cost: Cost): MetricValue[] {
  return [
    { name: 'params', value: cost.params, unit: 'count', source: 'computed' },
    { name: 'macs', value: cost.macs, unit: 'count', source: 'computed' },
  ];
}
