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
