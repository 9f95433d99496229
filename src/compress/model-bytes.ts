import * as tf from '@tensorflow/tfjs';
import type { ModelArtifact } from '../core/index.js';
import { toFloat16 } from './float16.js';

interface WeightSpec {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: string; original_dtype?: string };
}

const BYTES_PER: Record<string, number> = { float32: 4, int32: 4, bool: 1, float16: 2, uint16: 2, uint8: 1 };

function specBytes(spec: WeightSpec): number {
  const n = spec.shape.reduce((a, d) => a * d, 1);
  return n * (BYTES_PER[spec.quantization?.dtype ?? spec.dtype] ?? 4);
}

/** Serialises a LayersModel to a ModelArtifact (tfjs layers format, float32 weights as tfjs saves them). */
export async function modelToArtifact(model: tf.LayersModel): Promise<ModelArtifact> {
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(tf.io.withSaveHandler(async (artifacts) => {
    saved = artifacts;
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  if (!saved?.weightData || !saved.weightSpecs) throw new Error('tfjs saved the model without weights');
  const parts = Array.isArray(saved.weightData) ? saved.weightData : [saved.weightData];
  const total = parts.reduce((n, p) => n + p.byteLength, 0);
  const weightData = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    weightData.set(new Uint8Array(p), o);
    o += p.byteLength;
  }
  return { format: 'tfjs-layers', topology: saved.modelTopology as object, weightSpecs: saved.weightSpecs as unknown as object[], weightData };
}

/**
 * The same artifact with every float32 weight stored as float16 (tfjs's `quantization: float16`
 * manifest entry, which tfjs's loader decodes back to float32): half the weight bytes.
 */
export function float16Artifact(artifact: ModelArtifact): ModelArtifact {
  const specs = artifact.weightSpecs as unknown as WeightSpec[];
  const out: WeightSpec[] = [];
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const spec of specs) {
    const bytes = specBytes(spec);
    const slice = artifact.weightData.slice(offset, offset + bytes);
    offset += bytes;
    if (spec.dtype === 'float32' && !spec.quantization) {
      const half = toFloat16(new Float32Array(slice.buffer, slice.byteOffset, slice.byteLength / 4));
      chunks.push(new Uint8Array(half.buffer));
      out.push({ ...spec, quantization: { dtype: 'float16', original_dtype: 'float32' } });
    } else {
      chunks.push(slice);
      out.push(spec);
    }
  }
  const weightData = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let o = 0;
  for (const c of chunks) {
    weightData.set(c, o);
    o += c.byteLength;
  }
  return { ...artifact, weightSpecs: out as unknown as object[], weightData };
}

/** Bytes a stored artifact takes: the topology and manifest as JSON plus the weight bytes. */
export function artifactSizeBytes(artifact: ModelArtifact): number {
  return Buffer.byteLength(JSON.stringify({ format: artifact.format, topology: artifact.topology, weightSpecs: artifact.weightSpecs })) + artifact.weightData.byteLength;
}
