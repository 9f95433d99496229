import * as tf from '@tensorflow/tfjs';
import { modelConfig, rebuildModel, type LayerConfig } from './model-rebuild.js';

/*
 * Inference-only graph simplification: a batch normalisation right after a convolution is an affine
 * map per output channel, so it folds into the convolution's kernel and bias (as ONNX exporters and
 * TFLite do); a ReLU / ReLU6 right after a convolution becomes the convolution's own activation, which
 * tfjs runs as one fused kernel. The network computes the same function in inference mode with fewer
 * layers, so per-layer overhead (which dominates batch-1 latency of small networks) drops. The result
 * cannot be trained further as before (its batch statistics are gone): fold comes after training steps.
 */

/** What foldBatchNorms did. */
export interface FoldResult {
  /** The folded model (a new LayersModel; the input is unchanged). */
  model: tf.LayersModel;
  /** Batch normalisations folded into the layer before them. */
  foldedBatchNorms: number;
  /** Activations absorbed into the layer before them. */
  fusedActivations: number;
  /** Layers before and after. */
  layersBefore: number;
  /** See layersBefore. */
  layersAfter: number;
}

const FOLD_INTO = new Set(['Conv2D', 'DepthwiseConv2D']);

function inputsOf(layer: LayerConfig): string[] {
  return (layer.inboundNodes[0] ?? []).map((n) => n[0]);
}

/** The activation a ReLU-like layer computes, if a convolution can take it over. */
function fusableActivation(layer: LayerConfig): 'relu' | 'relu6' | undefined {
  const c = layer.config;
  if (layer.className === 'GreennasRelu6') return 'relu6';
  if (layer.className === 'ReLU' && !c['negativeSlope'] && !c['threshold']) {
    if (c['maxValue'] === 6) return 'relu6';
    if (c['maxValue'] == null) return 'relu';
  }
  if (layer.className === 'Activation' && (c['activation'] === 'relu' || c['activation'] === 'relu6')) return c['activation'] as 'relu' | 'relu6';
  return undefined;
}

/**
 * Folds every batch normalisation that directly follows a Conv2D or DepthwiseConv2D (whose output
 * nothing else reads) into that layer's kernel and bias, and moves a following ReLU / ReLU6 into the
 * layer's activation. Returns the rebuilt model; the original is left as it was.
 */
export function foldBatchNorms(model: tf.LayersModel): FoldResult {
  const config = modelConfig(model);
  const byName = new Map(config.layers.map((l) => [l.name, l]));
  const readers = new Map<string, string[]>();
  for (const l of config.layers) for (const i of inputsOf(l)) readers.set(i, [...(readers.get(i) ?? []), l.name]);
  for (const o of config.outputLayers) readers.set(o[0], [...(readers.get(o[0]) ?? []), '<output>']);
  const live = new Map(model.layers.map((l) => [l.name, l]));

  const removed = new Map<string, string>(); // removed layer -> the layer that now produces its output
  const folded = new Map<string, { scale: Float32Array; shift: Float32Array }>(); // conv -> per-channel affine
  let foldedBatchNorms = 0;
  let fusedActivations = 0;
  // The layer that now produces a removed layer's output (chains resolve transitively).
  const target = (name: string): string => {
    let n = name;
    while (removed.has(n)) n = removed.get(n)!;
    return n;
  };
  for (const layer of config.layers) {
    const ins = inputsOf(layer);
    if (layer.inboundNodes.length !== 1 || ins.length !== 1) continue;
    const direct = ins[0] as string;
    const prev = byName.get(target(direct));
    // Only this layer may read what it absorbs (the direct input, and the convolution behind it).
    if (!prev || !FOLD_INTO.has(prev.className) || prev.inboundNodes.length !== 1 || (readers.get(direct) ?? []).length !== 1 || (readers.get(prev.name) ?? []).length !== 1) continue;
    const isBn = layer.className === 'BatchNormalization' || layer.className === 'GreennasFusedBatchNormalization';
    if (isBn && direct === prev.name && (prev.config['activation'] ?? 'linear') === 'linear' && !folded.has(prev.name)) {
      const axis = layer.config['axis'];
      if (layer.className === 'BatchNormalization' && axis !== -1 && axis !== 3) continue;
      const bn = live.get(layer.name)!;
      const w = bn.getWeights();
      // Stock BN weights: [gamma?, beta?, moving_mean, moving_variance] (gamma/beta absent when scale/center are off).
      const names = bn.weights.map((v) => v.originalName.split('/').pop() ?? '');
      const get = (n: string) => { const i = names.indexOf(n); return i >= 0 ? (w[i]!.dataSync() as Float32Array) : undefined; };
      const mean = get('moving_mean')!;
      const variance = get('moving_variance')!;
      const gamma = get('gamma');
      const beta = get('beta');
      const eps = (layer.config['epsilon'] as number | undefined) ?? 1e-3;
      const scale = new Float32Array(mean.length);
      const shift = new Float32Array(mean.length);
      for (let c = 0; c < mean.length; c++) {
        scale[c] = (gamma ? (gamma[c] as number) : 1) / Math.sqrt((variance[c] as number) + eps);
        shift[c] = (beta ? (beta[c] as number) : 0) - (mean[c] as number) * (scale[c] as number);
      }
      folded.set(prev.name, { scale, shift });
      prev.config['useBias'] = true;
      const act = layer.className === 'GreennasFusedBatchNormalization' ? layer.config['activation'] : 'linear';
      if (act === 'relu6') {
        prev.config['activation'] = 'relu6';
        fusedActivations++;
      }
      removed.set(layer.name, prev.name);
      foldedBatchNorms++;
      continue;
    }
    const act = fusableActivation(layer);
    if (act && (prev.config['activation'] ?? 'linear') === 'linear') {
      prev.config['activation'] = act;
      removed.set(layer.name, prev.name);
      fusedActivations++;
    }
  }
  // Rewire: whoever read a removed layer now reads the layer that absorbed it.
  for (const l of config.layers) l.inboundNodes = l.inboundNodes.map((node) => node.map(([n, ni, ti, kw]) => (removed.has(n) ? [target(n), 0, 0, kw] : [n, ni, ti, kw])));
  config.outputLayers = config.outputLayers.map(([n, ni, ti]) => (removed.has(n) ? [target(n), 0, 0] : [n, ni, ti]));
  config.layers = config.layers.filter((l) => !removed.has(l.name));

  const out = rebuildModel(config, (name) => {
    const layer = live.get(name)!;
    const f = folded.get(name);
    const weights = layer.getWeights();
    if (!f) return weights.map((w) => tf.clone(w));
    return tf.tidy(() => {
      const kernel = weights[0]!;
      // Conv2D kernel [kh, kw, in, out]: scale the last axis; depthwise [kh, kw, C, 1]: scale axis 2.
      const shape = layer.getClassName() === 'DepthwiseConv2D' ? [1, 1, f.scale.length, 1] : [1, 1, 1, f.scale.length];
      const k = tf.mul(kernel, tf.tensor(f.scale, shape));
      const oldBias = weights[1] ? weights[1].dataSync() : undefined;
      const bias = new Float32Array(f.shift.length);
      for (let c = 0; c < bias.length; c++) bias[c] = (f.shift[c] as number) + (oldBias ? (oldBias[c] as number) * (f.scale[c] as number) : 0);
      return [k, tf.tensor1d(bias)];
    });
  });
  return { model: out, foldedBatchNorms, fusedActivations, layersBefore: model.layers.length, layersAfter: out.layers.length };
}
