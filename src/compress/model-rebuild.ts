import * as tf from '@tensorflow/tfjs';
// Registers the trainer's custom layers so configs naming them can be rebuilt.
import '../space/layers/index.js';

/** A functional model's configuration as `LayersModel.getConfig()` gives it (camel-cased keys). */
export interface ModelConfig {
  /** Model name. */
  name: string;
  /** Every layer with its class, config and inbound connections. */
  layers: LayerConfig[];
  /** `[layerName, nodeIndex, tensorIndex]` of each model input. */
  inputLayers: [string, number, number][];
  /** `[layerName, nodeIndex, tensorIndex]` of each model output. */
  outputLayers: [string, number, number][];
}

/** One layer of a ModelConfig. */
export interface LayerConfig {
  /** Layer name (unique in the model). */
  name: string;
  /** Serialised class name, e.g. `Conv2D`. */
  className: string;
  /** The layer's own settings (filters, units, targetShape…). */
  config: Record<string, unknown>;
  /** One entry per call of the layer; each lists `[layerName, nodeIndex, tensorIndex, kwargs]` of its inputs. */
  inboundNodes: [string, number, number, Record<string, unknown>][][];
}

/** A deep copy of a functional model's configuration, safe to edit. */
export function modelConfig(model: tf.LayersModel): ModelConfig {
  return JSON.parse(JSON.stringify(model.getConfig())) as ModelConfig;
}

/**
 * Builds a LayersModel from a (possibly edited) configuration and gives each layer the weights
 * `weightsFor(layerName)` returns, in the layer's own weight order; a layer for which it returns
 * undefined keeps fresh initial values (callers give every weighted layer its weights). The returned
 * tensors are handed over: they are disposed once written (the variables keep their own reference).
 */
export function rebuildModel(config: ModelConfig, weightsFor: (layerName: string) => tf.Tensor[] | undefined): tf.LayersModel {
  const model = (tf.LayersModel as unknown as {
    fromConfig(cls: unknown, config: unknown, customObjects: unknown, fastWeightInit: boolean): tf.LayersModel;
  }).fromConfig(tf.LayersModel, config as unknown as tf.serialization.ConfigDict, {}, false);
  for (const layer of model.layers) {
    if (layer.weights.length === 0) continue;
    const weights = weightsFor(layer.name);
    if (!weights) continue;
    try {
      layer.setWeights(weights);
    } finally {
      for (const w of weights) w.dispose();
    }
  }
  return model;
}

/** An independent copy of a model: same configuration, weights copied (`map` may compute each weight's new values; it runs inside tf.tidy). */
export function cloneModel(model: tf.LayersModel, map?: (layer: tf.layers.Layer, index: number, value: tf.Tensor) => tf.Tensor): tf.LayersModel {
  const byLayer = new Map(model.layers.map((l) => [l.name, l]));
  return rebuildModel(modelConfig(model), (name) => {
    const layer = byLayer.get(name);
    if (!layer) return undefined;
    // getWeights() returns the variables' own tensors, so each is cloned (shared data, own reference) before it is handed over.
    return layer.getWeights().map((v, i) => (map ? tf.tidy(() => tf.clone(map(layer, i, v))) : tf.clone(v)));
  });
}
