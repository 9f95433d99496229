import { describe, expect, it } from 'vitest';
import { decodeModel, encodeModel } from '../../src/distributed/job-queue.js';

describe('model transport through the job queue', () => {
  it('survives JSON (the job output) byte for byte, also from a view into a larger buffer', () => {
    const bytes = new Uint8Array(300).map((_, i) => (i * 91 + 7) % 256);
    const view = new Uint8Array(new Uint8Array([1, 2, ...bytes, 3]).buffer, 2, bytes.length);
    const artifact = { format: 'tfjs-layers' as const, topology: { class_name: 'Model', config: { layers: [] } }, weightSpecs: [{ name: 'w', shape: [300], dtype: 'uint8' }], weightData: view };
    const back = decodeModel(JSON.parse(JSON.stringify(encodeModel(artifact))));
    expect(back.topology).toEqual(artifact.topology);
    expect(back.weightSpecs).toEqual(artifact.weightSpecs);
    expect(Array.from(back.weightData)).toEqual(Array.from(bytes));
  });
});
