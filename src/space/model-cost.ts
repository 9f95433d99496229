import type * as tf from '@tensorflow/tfjs';
import type { CostTally } from './cost.js';

/*
 * A second, independent way to count a built model: walk its layers and count from the shapes tfjs
 * inferred. The spaces count analytically from the architecture (so they can rank thousands of
 * candidates without building them); tests hold the two against each other. Conventions as in
 * cost.ts: multiply-adds of convolutions, dense maps and attention only.
 */

/** A custom layer that knows its own multiply-adds per sample (e.g. self-attention). */
export interface MacsCountingLayer {
  /** Multiply-adds for one sample, given the layer's built input shape (batch dimension first, null). */
  macsPerSample(inputShape: tf.Shape): number;
}

/** Per-model counts read off a built tfjs model. */
export interface LayersModelCost extends CostTally {
  /** Layers that hold weights but whose multiply-adds this walker does not know (their macs are not in the total). */
  uncounted: string[];
}

function product(dims: readonly (number | null)[]): number {
  return dims.reduce<number>((n, d) => n * (d ?? 1), 1);
}

function weightCount(weights: readonly tf.LayerVariable[]): number {
  return weights.reduce((n, w) => n + product(w.shape), 0);
}

function singleShape(shape: tf.Shape | tf.Shape[]): tf.Shape {
  return (Array.isArray(shape[0]) ? shape[0] : shape) as tf.Shape;
}

function inputShapeOf(layer: tf.layers.Layer): tf.Shape {
  const input = layer.input;
  return (Array.isArray(input) ? input[0]! : input).shape;
}

function hasMacsPerSample(layer: unknown): layer is MacsCountingLayer {
  return typeof (layer as Partial<MacsCountingLayer>).macsPerSample === 'function';
}

// Normalisation and lookup layers hold weights but no multiply-adds (the ones in MACs' sense).
const NO_MAC_LAYERS = new Set(['BatchNormalization', 'LayerNormalization', 'Embedding',
  'GreennasFusedBatchNormalization', 'GreennasFusedLayerNormalization']);

/** Counts trainable parameters, non-trainable state and multiply-adds per sample of a built LayersModel. */
export function layersModelCost(model: tf.LayersModel): LayersModelCost {
  const result: LayersModelCost = { params: 0, macs: 0, stateParams: 0, uncounted: [] };
  for (const layer of model.layers) {
    result.params += weightCount(layer.trainableWeights);
    result.stateParams += weightCount(layer.nonTrainableWeights);
    const cls = layer.getClassName();
    const config = layer.getConfig();
    if (cls === 'Conv2D' || cls === 'DepthwiseConv2D') {
      const inShape = inputShapeOf(layer);
      const outShape = singleShape(layer.outputShape as tf.Shape | tf.Shape[]);
      const kernel = config['kernelSize'] as number[];
      const kArea = product(kernel);
      const [, outH, outW, outC] = outShape;
      if (cls === 'Conv2D') result.macs += (outH ?? 1) * (outW ?? 1) * kArea * (inShape[3] ?? 1) * (outC ?? 1);
      else result.macs += (outH ?? 1) * (outW ?? 1) * kArea * (outC ?? 1);
    } else if (cls === 'Dense') {
      const inShape = inputShapeOf(layer);
      const positions = product(inShape.slice(1, -1));
      result.macs += positions * (inShape[inShape.length - 1] ?? 1) * (config['units'] as number);
    } else if (hasMacsPerSample(layer)) {
      result.macs += layer.macsPerSample(inputShapeOf(layer));
    } else if (layer.weights.length > 0 && !NO_MAC_LAYERS.has(cls)) {
      result.uncounted.push(`${layer.name} (${cls})`);
    }
  }
  return result;
}
