import { describe, expect, it } from 'vitest';
import { batchCount, iterateBatches, splitAsBatch, type DataSplit } from '../../src/data/index.js';

function imageSplit(count: number): DataSplit {
  const x = new Uint8Array(count * 4);
  for (let i = 0; i < count; i++) x.set([i, 255, 0, 51], i * 4);
  return { x, y: Int32Array.from({ length: count }, (_, i) => i % 3), count, sampleSize: 4, sourceIndex: Int32Array.from({ length: count }, (_, i) => i) };
}

describe('iterateBatches', () => {
  it('scales pixel bytes to [0, 1] and keeps rows with their labels', () => {
    const batches = [...iterateBatches(imageSplit(10), { batchSize: 4 })];
    expect(batches.map((b) => b.size)).toEqual([4, 4, 2]);
    const b = batches[1]!;
    expect(b.x).toBeInstanceOf(Float32Array);
    expect(Array.from(b.x.subarray(0, 4))).toEqual([4 / 255, 1, 0, 51 / 255].map(Math.fround));
    expect(Array.from(b.y)).toEqual([1, 2, 0, 1]);
  });

  it('copies token ids unchanged', () => {
    const split: DataSplit = { x: Int32Array.from([5, 6, 0, 7, 8, 9]), y: Int32Array.from([0, 1, 1]), count: 3, sampleSize: 2, sourceIndex: Int32Array.from([0, 1, 2]) };
    const [b] = [...iterateBatches(split, { batchSize: 3 })];
    expect(b!.x).toBeInstanceOf(Int32Array);
    expect(Array.from(b!.x)).toEqual([5, 6, 0, 7, 8, 9]);
    expect(b!.x).not.toBe(split.x);
  });

  it('shuffles reproducibly per (seed, epoch) and visits every sample once per epoch', () => {
    const split = imageSplit(50);
    const order = (seed: number, epoch: number) => [...iterateBatches(split, { batchSize: 8, shuffle: true, seed, epoch })].flatMap((b) => Array.from(b.indices));
    const a = order(1, 0);
    expect(a).toEqual(order(1, 0));
    expect(a).not.toEqual(order(1, 1));
    expect(a).not.toEqual(order(2, 0));
    expect([...a].sort((p, q) => p - q)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(a).not.toEqual(Array.from({ length: 50 }, (_, i) => i));
    // The pixel that encodes the row index follows the shuffled index.
    const [first] = [...iterateBatches(split, { batchSize: 8, shuffle: true, seed: 1 })];
    expect(Math.round(first!.x[0]! * 255)).toBe(first!.indices[0]);
  });

  it('honours dropLast and maxBatches', () => {
    expect(batchCount(10, { batchSize: 4 })).toBe(3);
    expect(batchCount(10, { batchSize: 4, dropLast: true })).toBe(2);
    expect(batchCount(10, { batchSize: 4, maxBatches: 1 })).toBe(1);
    expect([...iterateBatches(imageSplit(10), { batchSize: 4, dropLast: true })].map((b) => b.size)).toEqual([4, 4]);
    expect([...iterateBatches(imageSplit(10), { batchSize: 3, maxBatches: 2 })]).toHaveLength(2);
    expect(() => [...iterateBatches(imageSplit(10), { batchSize: 0 })]).toThrow(RangeError);
  });

  it('turns a whole split into one batch', () => {
    const b = splitAsBatch(imageSplit(7));
    expect(b.size).toBe(7);
    expect(b.x.length).toBe(28);
  });
});

describe('datasets cross worker threads', () => {
  it('posts a dataset to a worker; with sharedMemory the worker reads the same bytes without a copy', async () => {
    const { Worker } = await import('node:worker_threads');
    const { loadSpamAssassin } = await import('../../src/data/index.js');
    const corpus = Array.from({ length: 20 }, (_, i) => ({ group: i % 2 ? 'spam-1' : 'easy-ham-1', text: `Subject: s${i}\n\nbody ${i}` }));
    const ds = await loadSpamAssassin({ corpus, seqLen: 4, sharedMemory: true, minTokenCount: 1 });
    const worker = new Worker(
      `const { parentPort } = require('node:worker_threads');
       parentPort.once('message', (ds) => {
         ds.train.x[0] = 4242;
         parentPort.postMessage({ count: ds.train.count, vocab: ds.vocabulary.ids.size, shared: ds.train.x.buffer instanceof SharedArrayBuffer });
       });`,
      { eval: true },
    );
    const reply = await new Promise<{ count: number; vocab: number; shared: boolean }>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.postMessage(ds);
    });
    await worker.terminate();
    expect(reply).toEqual({ count: ds.train.count, vocab: ds.vocabulary!.tokens.length, shared: true });
    expect(ds.train.x[0]).toBe(4242);
  });
});
