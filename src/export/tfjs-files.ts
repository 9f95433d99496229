import * as tf from '@tensorflow/tfjs';
import type { ModelArtifact } from '../core/index.js';

/** Name of the weights file, as tfjs's converter names a single shard. */
export const TFJS_WEIGHTS_FILE = 'group1-shard1of1.bin';

/** tfjs's `model.json` of a layers model (format, topology and a one-shard weights manifest). */
export interface TfjsModelJson {
  /** Always `layers-model`. */
  format: 'layers-model';
  /** Who wrote it. */
  generatedBy: string;
  /** Not converted from Keras. */
  convertedBy: null;
  /** The layers topology. */
  modelTopology: object;
  /** One group: the weights file and the specs of what it holds, in order. */
  weightsManifest: { paths: string[]; weights: object[] }[];
}

/**
 * The two files of tfjs's layers-model format for a stored model: `model.json` and the weights in
 * one shard, byte for byte as stored, so `tf.loadLayersModel` (file://, http:// or an IOHandler)
 * rebuilds exactly the trained model.
 */
export function tfjsModelFiles(artifact: ModelArtifact): { 'model.json': string; [TFJS_WEIGHTS_FILE]: Uint8Array } {
  const json: TfjsModelJson = {
    format: 'layers-model',
    generatedBy: `TensorFlow.js tfjs-layers v${tf.version_layers}`,
    convertedBy: null,
    modelTopology: artifact.topology,
    weightsManifest: [{ paths: [TFJS_WEIGHTS_FILE], weights: artifact.weightSpecs }],
  };
  return { 'model.json': JSON.stringify(json), [TFJS_WEIGHTS_FILE]: artifact.weightData };
}
