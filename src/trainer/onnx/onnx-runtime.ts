import * as ort from 'onnxruntime-node';
import { median, warmupPolicy, type LatencyProbeOptions, type LatencyProbeResult } from '../latency-probe.js';

/** Options of an ONNX Runtime session as greennas opens it. */
export interface OnnxSessionOptions {
  /** Threads inside one operator (1 = per core, comparable with the tfjs probe on one worker). */
  intraOpNumThreads?: number;
  /** Where onnxruntime writes the graph after its optimisations (to see which kernels it chose). */
  optimizedModelFilePath?: string;
}

/** Opens an onnxruntime-node CPU session on ONNX bytes, sequential, with every graph optimisation on. */
export function openOnnxSession(onnx: Uint8Array, options: OnnxSessionOptions = {}): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(onnx, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    intraOpNumThreads: options.intraOpNumThreads ?? 1,
    interOpNumThreads: 1,
    ...(options.optimizedModelFilePath ? { optimizedModelFilePath: options.optimizedModelFilePath } : {}),
  });
}

/**
 * Runs a session over `count` samples in batches and returns the outputs of `outputNames` (the
 * first output when not given) concatenated in sample order.
 */
export async function runOnnxBatched(session: ort.InferenceSession, input: Float32Array, sampleShape: readonly number[], count: number,
  options: { batchSize?: number; outputNames?: readonly string[] } = {}): Promise<Map<string, Float32Array[]>> {
  const sampleSize = sampleShape.reduce((a, b) => a * b, 1);
  const batchSize = options.batchSize ?? 256;
  const names = options.outputNames ?? [session.outputNames[0] as string];
  const out = new Map<string, Float32Array[]>(names.map((n) => [n, []]));
  for (let start = 0; start < count; start += batchSize) {
    const n = Math.min(batchSize, count - start);
    const x = new ort.Tensor('float32', input.subarray(start * sampleSize, (start + n) * sampleSize), [n, ...sampleShape]);
    const result = await session.run({ [session.inputNames[0] as string]: x }, names as string[]);
    for (const name of names) out.get(name)!.push(new Float32Array(result[name]!.data as Float32Array));
    for (const t of Object.values(result)) t.dispose();
  }
  return out;
}

/** Logits of `count` samples from an ONNX model, [count × classes] row-major. */
export async function predictOnnx(onnx: Uint8Array, input: Float32Array, sampleShape: readonly number[], count: number): Promise<Float32Array> {
  const session = await openOnnxSession(onnx);
  try {
    const name = session.outputNames[0] as string;
    const parts = (await runOnnxBatched(session, input, sampleShape, count, { outputNames: [name] })).get(name) ?? [];
    const all = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
    let o = 0;
    for (const p of parts) { all.set(p, o); o += p.length; }
    return all;
  } finally {
    await session.release();
  }
}

/** One complete inference of `input` (shape with the batch dimension) in `session`, its outputs released. */
export function onnxInferenceRunner(session: ort.InferenceSession, input: Float32Array, shape: readonly number[]): () => Promise<void> {
  const x = new ort.Tensor('float32', input, [...shape]);
  const inputName = session.inputNames[0] as string;
  return async () => {
    const out = await session.run({ [inputName]: x });
    for (const t of Object.values(out)) t.dispose();
  };
}

/**
 * Times inference of an ONNX model in onnxruntime-node's CPU provider on one thread (per core, like
 * the tfjs latency probe on one worker): warm-up runs, then `timedRuns` runs of one batch of zeros
 * (a dense network's work does not depend on the values). Each run ends when the output is back.
 */
export async function probeOnnxLatency(onnx: Uint8Array, inputShape: readonly number[], options: LatencyProbeOptions): Promise<LatencyProbeResult> {
  const session = await openOnnxSession(onnx, { intraOpNumThreads: 1 });
  try {
    const size = inputShape.reduce((a, b) => a * b, 1);
    const infer = onnxInferenceRunner(session, new Float32Array(options.batchSize * size), [options.batchSize, ...inputShape]);
    const runOnce = async (): Promise<number> => {
      const t0 = performance.now();
      await infer();
      return performance.now() - t0;
    };
    const moreWarmup = warmupPolicy(options);
    let warmups = 0;
    for (; moreWarmup(warmups); warmups++) await runOnce();
    const runsMs: number[] = [];
    for (let i = 0; i < options.timedRuns; i++) runsMs.push(await runOnce());
    return { batchSize: options.batchSize, medianMs: median(runsMs), runsMs, warmups };
  } finally {
    await session.release();
  }
}
