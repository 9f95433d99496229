import * as tf from '@tensorflow/tfjs';
import { GreennasError, type ModelArtifact } from '../core/index.js';
// Registers the custom layer classes a stored topology may name, so loading finds them.
import '../space/layers/index.js';
import './fused-layers.js';
import './transformer-layers.js';

/** Joins tfjs's weight data (one buffer, or several shards in tfjs ≥ 4.13) into one byte array of its own. */
function joinWeightData(data: tf.io.WeightData | undefined): Uint8Array {
  if (data === undefined) return new Uint8Array(0);
  const buffer = Array.isArray(data) ? tf.io.CompositeArrayBuffer.join(data) : data;
  return new Uint8Array(buffer.slice(0));
}

/**
 * A layers model's topology, weight manifest and weights as plain data, through tfjs's own
 * serialiser (the same bytes `model.save('file://…')` writes), without the optimizer state.
 */
export async function saveModelArtifact(model: tf.LayersModel): Promise<ModelArtifact> {
  let captured: ModelArtifact | undefined;
  await model.save(tf.io.withSaveHandler(async (artifacts) => {
    if (!artifacts.modelTopology || artifacts.modelTopology instanceof ArrayBuffer) {
      throw new GreennasError('tfjs returned no JSON topology for the model', 'E_MODEL_SAVE');
    }
    captured = {
      format: 'tfjs-layers',
      topology: artifacts.modelTopology,
      weightSpecs: (artifacts.weightSpecs ?? []).map((s) => ({ ...s })),
      weightData: joinWeightData(artifacts.weightData),
    };
    return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
  }));
  if (!captured) throw new GreennasError('tfjs did not hand the model to the save handler', 'E_MODEL_SAVE');
  return captured;
}

/** Rebuilds a layers model from a stored artifact (custom greennas layers included). The caller disposes it. */
export async function loadModelArtifact(artifact: ModelArtifact): Promise<tf.LayersModel> {
  if (artifact.format !== 'tfjs-layers') throw new GreennasError(`unknown model format '${String(artifact.format)}'`, 'E_MODEL_LOAD');
  const { weightData } = artifact;
  // tfjs reads weights from an ArrayBuffer; copy out exactly this view's bytes.
  const buffer = weightData.buffer.slice(weightData.byteOffset, weightData.byteOffset + weightData.byteLength) as ArrayBuffer;
  return tf.loadLayersModel(tf.io.fromMemory({
    modelTopology: artifact.topology,
    weightSpecs: artifact.weightSpecs as tf.io.WeightsManifestEntry[],
    weightData: buffer,
  }));
}
