/**
 * Training throughput of reference models A and B per backend, with 1 and 2 worker threads,
 * beside PyTorch (one thread) on the same model, batch and optimiser, measured in the same run; for
 * several workers also as many one-thread PyTorch processes run together (the machine's own scaling).
 * Run by hand: `npm run bench:train -- [--json] [--models A,B] [--backends wasm,cpu] [--workers 1,2]
 * [--steps 30] [--cpu-steps 2] [--repeats 3] [--batch-size 64] [--accuracy] [--accuracy-train 6400] [--accuracy-test 2000]`.
 * stdout: one JSON object per line with --json (else a table); progress on stderr.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { createRng } from '../src/core/index.js';
import { type BackendName, initBackend } from '../src/trainer/backend.js';
import { TrainerPool } from '../src/trainer/pool.js';
import { buildModelA, MODEL_B_SHAPE } from '../src/trainer/reference-models.js';
import type { ReferenceTrainResult, ReferenceTrainTask } from '../src/trainer/reference-training.js';
import { createTrainStep, evaluateAccuracy } from '../src/trainer/train-step.js';
import { FASHION_MNIST_DIR, type ImageSet, loadFashionMnist } from './idx.js';

const BATCH = 64;
const PYTHON = '/usr/bin/python3';

interface Args {
  json: boolean;
  models: ('A' | 'B')[];
  backends: BackendName[];
  workers: number[];
  steps: number;
  cpuSteps: number;
  warmup: number;
  repeats: number;
  accuracy: boolean;
  accuracyTrain: number;
  accuracyTest: number;
  skipThroughput: boolean;
  /** Samples per step of the throughput runs (the figure is 64; smaller ones show how the working set limits scaling). */
  batchSize: number;
}

function parseArgs(argv: string[]): Args {
  const get = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const list = (name: string, dflt: string) => (get(name) ?? dflt).split(',').map((s) => s.trim()).filter(Boolean);
  const int = (name: string, dflt: number) => {
    const v = Number(get(name) ?? dflt);
    if (!Number.isInteger(v) || v < 0) throw new Error(`--${name} must be a non-negative integer`);
    return v;
  };
  return {
    json: argv.includes('--json'),
    models: list('models', 'A,B') as ('A' | 'B')[],
    backends: list('backends', 'wasm,cpu') as BackendName[],
    workers: list('workers', '1,2').map(Number),
    steps: int('steps', 30),
    cpuSteps: int('cpu-steps', 2),
    warmup: int('warmup', 3),
    repeats: int('repeats', 3),
    accuracy: argv.includes('--accuracy'),
    accuracyTrain: int('accuracy-train', 6400),
    accuracyTest: int('accuracy-test', 2000),
    skipThroughput: argv.includes('--accuracy-only'),
    batchSize: Math.max(1, int('batch-size', BATCH)),
  };
}

const log = (m: string) => process.stderr.write(m + '\n');
const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2; };
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

function peerScript(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const p of [path.join(here, 'torch_peer.py'), path.resolve(here, '../../bench/torch_peer.py')]) if (existsSync(p)) return p;
  throw new Error('bench/torch_peer.py not found');
}

/** PyTorch, one thread, same model, batch and optimiser. */
function runPeer(model: 'A' | 'B', steps: number, batch: number): number {
  const r = spawnSync(PYTHON, [peerScript(), model, String(steps), '3', String(batch)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`PyTorch peer failed: ${r.stderr || r.error?.message}`);
  return (JSON.parse(r.stdout.trim().split('\n').pop()!) as { samplesPerS: number }).samplesPerS;
}

/**
 * `copies` PyTorch peers (one thread each) started together: their summed rate is what this machine
 * gives `copies` independent single-threaded trainers, the yardstick for worker scaling (a VM's
 * vCPUs may share a physical core or memory bandwidth).
 */
async function runPeersTogether(model: 'A' | 'B', steps: number, copies: number, batch: number): Promise<number> {
  const one = () => new Promise<number>((resolve, reject) => {
    const child = spawn(PYTHON, [peerScript(), model, String(steps), '3', String(batch)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`PyTorch peer failed: ${err}`));
      else resolve((JSON.parse(out.trim().split('\n').pop()!) as { samplesPerS: number }).samplesPerS);
    });
  });
  const rates = await Promise.all(Array.from({ length: copies }, one));
  return rates.reduce((a, b) => a + b, 0);
}

function trainingData(model: 'A' | 'B', samples: number, fashion: ImageSet | null): { inputs: Float32Array | Int32Array; labels: Int32Array } {
  if (model === 'A') {
    if (!fashion) throw new Error(`model A needs Fashion-MNIST in ${FASHION_MNIST_DIR}`);
    const n = Math.min(samples, fashion.count);
    return { inputs: fashion.images.slice(0, n * 784), labels: fashion.labels.slice(0, n) };
  }
  // Synthetic token ids: a step's cost does not depend on which ids it sees.
  const rng = createRng('bench-b');
  const seq = MODEL_B_SHAPE.sequenceLength;
  return {
    inputs: Int32Array.from({ length: samples * seq }, () => rng.int(MODEL_B_SHAPE.vocabSize)),
    labels: Int32Array.from({ length: samples }, () => rng.int(2)),
  };
}

/** Runs one task per worker at once; throughput over the union of their timed windows. */
async function measure(pool: TrainerPool, workers: number, task: ReferenceTrainTask): Promise<{ samplesPerS: number; results: ReferenceTrainResult[] }> {
  const results = await Promise.all(Array.from({ length: workers }, (_, i) => pool.trainReference({ ...task, seed: task.seed + i })));
  const start = Math.min(...results.map((r) => r.startEpochMs));
  const end = Math.max(...results.map((r) => r.endEpochMs));
  const samples = results.reduce((s, r) => s + r.samples, 0);
  for (const r of results) {
    if (r.numTensorsAfter !== r.numTensorsBefore) throw new Error(`tensor leak in a worker: ${r.numTensorsBefore} -> ${r.numTensorsAfter}`);
  }
  return { samplesPerS: samples / ((end - start) / 1000), results };
}

async function throughput(args: Args, fashion: ImageSet | null): Promise<void> {
  const pools = new Map<number, TrainerPool>();
  const rows: Record<string, unknown>[] = [];
  try {
    for (const w of args.workers) pools.set(w, new TrainerPool({ workers: w }));
    for (const model of args.models) {
      for (const backend of args.backends) {
        const steps = backend === 'cpu' ? args.cpuSteps : args.steps;
        const warmup = backend === 'cpu' ? 1 : args.warmup;
        const batch = args.batchSize;
        const data = trainingData(model, Math.max(batch * 20, batch * (steps + warmup)), fashion);
        const single: number[] = [];
        for (const workers of args.workers) {
          const ours: number[] = [];
          const peer: number[] = [];
          const peerTogether: number[] = [];
          const loads: number[] = [];
          let info: ReferenceTrainResult['backend'] | undefined;
          for (let r = 0; r < args.repeats; r++) {
            peer.push(runPeer(model, model === 'A' ? 20 : 40, batch));
            if (workers > 1) peerTogether.push(await runPeersTogether(model, model === 'A' ? 20 : 40, workers, batch));
            const task: ReferenceTrainTask = { model, backend, batchSize: batch, warmupSteps: warmup, steps, seed: 1, ...data };
            const m = await measure(pools.get(workers)!, workers, task);
            info = m.results[0]!.backend;
            ours.push(m.samplesPerS);
            loads.push(loadavg()[0]!);
            log(`model ${model} ${backend} x${workers}: ${m.samplesPerS.toFixed(1)} samples/s, PyTorch ${peer[peer.length - 1]!.toFixed(1)}, load ${loads[loads.length - 1]!.toFixed(2)}`);
          }
          const samplesPerS = median(ours);
          const peerSamplesPerS = median(peer);
          if (workers === 1) single.push(samplesPerS);
          const row = {
            model, backend, workers, batchSize: batch, steps,
            samplesPerS: round(samplesPerS), peerSamplesPerS: round(peerSamplesPerS),
            ratio: round(samplesPerS / peerSamplesPerS, 3),
            ratioPerWorker: round(samplesPerS / workers / peerSamplesPerS, 3),
            scalingVsOneWorker: single.length && workers > 1 ? round(samplesPerS / single[0]!, 2) : undefined,
            // The same machine's scaling for PyTorch: `workers` one-thread processes together over one alone.
            peerTogetherSamplesPerS: workers > 1 ? round(median(peerTogether)) : undefined,
            peerScaling: workers > 1 ? round(median(peerTogether) / peerSamplesPerS, 2) : undefined,
            runs: ours.map((v) => round(v)), peerRuns: peer.map((v) => round(v)),
            loadAvg1m: loads.map((v) => round(v, 2)), peer: 'PyTorch, 1 thread', backendVersions: info?.versions,
          };
          rows.push(row);
          if (args.json) process.stdout.write(JSON.stringify(row) + '\n');
        }
      }
    }
  } finally {
    for (const p of pools.values()) await p.close();
  }
  if (!args.json) {
    process.stdout.write('model backend workers samples/s PyTorch ratio ratio/worker scaling PyTorch-scaling load\n');
    for (const r of rows) {
      process.stdout.write(`${r.model} ${r.backend} ${r.workers} ${r.samplesPerS} ${r.peerSamplesPerS} ${r.ratio} ${r.ratioPerWorker} ${r.scalingVsOneWorker ?? '-'} ${r.peerScaling ?? '-'} ${(r.loadAvg1m as number[]).join('/')}\n`);
    }
  }
}

/**
 * Model A on wasm and on cpu from the same initial weights over the same batches in the same
 * order, then test accuracy of both: they should agree within one point.
 */
async function accuracyCheck(args: Args, fashion: ImageSet): Promise<void> {
  const test = loadFashionMnist('test');
  const nTrain = Math.min(args.accuracyTrain, fashion.count) - (Math.min(args.accuracyTrain, fashion.count) % BATCH);
  const nTest = Math.min(args.accuracyTest, test.count);
  const result: Record<string, unknown> = { check: 'accuracy', model: 'A', trainSamples: nTrain, testSamples: nTest, batchSize: BATCH, optimizer: 'sgd 0.05', seed: 7 };
  for (const backend of ['wasm', 'cpu'] as const) {
    await initBackend(backend);
    const model = buildModelA({ seed: 7 });
    const opt = tf.train.sgd(0.05);
    const step = createTrainStep(model, opt, 10);
    const t0 = performance.now();
    let loss = NaN;
    for (let s = 0; s < nTrain; s += BATCH) {
      const x = tf.tensor4d(fashion.images.subarray(s * 784, (s + BATCH) * 784), [BATCH, 28, 28, 1]);
      const y = tf.tensor1d(fashion.labels.subarray(s, s + BATCH), 'int32');
      loss = step(x, y, { readLoss: s + BATCH >= nTrain }) ?? loss;
      tf.dispose([x, y]);
      if ((s / BATCH) % 50 === 0) log(`accuracy check ${backend}: ${s}/${nTrain} samples`);
    }
    const trainS = (performance.now() - t0) / 1000;
    const xt = tf.tensor4d(test.images.subarray(0, nTest * 784), [nTest, 28, 28, 1]);
    const acc = evaluateAccuracy(model, xt, test.labels.subarray(0, nTest));
    // Early in training the moving BN statistics lag the weights, which makes inference-mode
    // accuracy swing by many points from one step to the next; accuracy with batch statistics
    // (test batches of 64) depends on the weights alone. Run last: it moves the moving averages.
    let batchStatCorrect = 0;
    for (let s = 0; s + BATCH <= nTest; s += BATCH) {
      const pred = tf.tidy(() => tf.argMax(model.apply(tf.slice(xt, s, BATCH), { training: true }) as tf.Tensor, -1));
      const p = pred.dataSync();
      pred.dispose();
      for (let i = 0; i < BATCH; i++) if (p[i] === test.labels[s + i]) batchStatCorrect++;
    }
    result[`${backend}BatchStatAccuracy`] = round(100 * batchStatCorrect / (nTest - (nTest % BATCH)), 2);
    xt.dispose();
    model.dispose();
    opt.dispose();
    result[`${backend}Accuracy`] = round(acc * 100, 2);
    result[`${backend}FinalLoss`] = round(loss, 4);
    result[`${backend}TrainSamplesPerS`] = round(nTrain / trainS);
    log(`accuracy check ${backend}: test accuracy ${(acc * 100).toFixed(2)}% after ${nTrain} samples (${trainS.toFixed(0)} s)`);
  }
  result.diffPoints = round(Math.abs((result.wasmAccuracy as number) - (result.cpuAccuracy as number)), 2);
  result.batchStatDiffPoints = round(Math.abs((result.wasmBatchStatAccuracy as number) - (result.cpuBatchStatAccuracy as number)), 2);
  result.finalLossDiff = round(Math.abs((result.wasmFinalLoss as number) - (result.cpuFinalLoss as number)), 4);
  result.withinOnePoint = (result.diffPoints as number) <= 1;
  process.stdout.write(JSON.stringify(result) + '\n');
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  log(`load average at start: ${loadavg().map((v) => v.toFixed(2)).join(' ')}`);
  const needFashion = args.models.includes('A') || args.accuracy;
  const fashion = needFashion && existsSync(FASHION_MNIST_DIR) ? loadFashionMnist('train') : null;
  if (!args.skipThroughput) await throughput(args, fashion);
  if (args.accuracy) {
    if (!fashion) throw new Error(`the accuracy check needs Fashion-MNIST in ${FASHION_MNIST_DIR}`);
    await accuracyCheck(args, fashion);
  }
  log(`load average at end: ${loadavg().map((v) => v.toFixed(2)).join(' ')}`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
