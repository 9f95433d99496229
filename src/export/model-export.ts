import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { GreennasError, silentLogger, UserError, VERSION, type Logger, type MetricValue, type ModelArtifact } from '../core/index.js';
import type { DataSplit, DatasetInfo } from '../data/index.js';
import type { RunRecord, RunStore, TrialRecord } from '../store/index.js';
import { loadModelArtifact } from '../trainer/index.js';
import { layersModelToOnnx } from './layers-to-onnx.js';
import { ONNX_IR_VERSION, ONNX_OPSET } from './onnx-model.js';
import { onnxOpCounts, quantizeOnnxInt8 } from './onnx-quantize.js';
import { openOnnxSession, predictOnnx, probeOnnxLatency } from './onnx-runtime.js';
import { TFJS_WEIGHTS_FILE, tfjsModelFiles } from './tfjs-files.js';

/** Formats `greennas export` writes. */
export const EXPORT_FORMATS = ['tfjs', 'onnx'] as const;
/** A format `greennas export` writes. */
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** Largest |logit difference| accepted between the FP32 ONNX model and tfjs (float32 sums in another order). */
export const ONNX_LOGIT_TOLERANCE = 1e-3;
/** Smallest top-1 agreement accepted between the FP32 ONNX model and tfjs. */
export const ONNX_MIN_AGREEMENT = 0.995;
/** Calibration samples for INT8 activation ranges (from the validation split, never the test split). */
export const INT8_CALIBRATION_SAMPLES = 256;

/** The run's data an export checks itself on: test samples (accuracy, agreement) and held-out calibration samples. */
export interface ExportData {
  /** Input shape and classes. */
  task: DatasetInfo;
  /** Where accuracy and agreement are measured (the run's test split). */
  test: DataSplit;
  /** Where INT8 activation ranges are calibrated (the run's validation split). */
  calibration: DataSplit;
}

/** What to export. */
export interface ExportRequest {
  /** The run. */
  run: RunRecord;
  /** Trials to export; absent = the run's front. */
  trialIds?: number[];
  /** File format. */
  format: ExportFormat;
  /** Also write an INT8 model (ONNX only). */
  int8: boolean;
  /** Output folder: one sub-folder per model. */
  outDir: string;
  /** Write into a non-empty output folder. */
  force: boolean;
  /** Test and calibration data (ONNX only: agreement, accuracy and INT8 calibration). */
  data?: ExportData;
  /** Progress on stderr. */
  logger?: Logger;
}

/** One check an export ran on what it wrote, with its numbers. */
export interface ExportCheck {
  /** What was compared. */
  name: string;
  /** Whether it passed. */
  passed: boolean;
  /** Its numbers. */
  detail: Record<string, unknown>;
}

/** The manifest.json next to each exported model. */
export interface ExportManifest {
  /** Manifest schema version. */
  manifestVersion: 1;
  /** Run id and what the run was. */
  run: { id: number; space: string; spaceVersion: string; dataset: string; strategy: string; seed: number; backend: string; createdAt: string };
  /** The trial the model belongs to. */
  trial: { id: number; seq: number; key: string; kind: TrialRecord['kind']; parentTrialId?: number; state: TrialRecord['state']; backend?: string; worker?: string };
  /** The architecture JSON. */
  arch: unknown;
  /** Compression steps applied to the parent's model, in order (empty for search trials). */
  steps: NonNullable<TrialRecord['steps']>;
  /** The trial's stored metrics (each with unit, source and detail) and what the export measured. */
  metrics: MetricValue[];
  /** Files written, by role. */
  files: Record<string, string>;
  /** Format details. */
  format: { name: ExportFormat; onnxIrVersion?: number; onnxOpset?: number; int8?: Record<string, unknown> };
  /** Checks run on the written files. */
  checks: ExportCheck[];
  /** Versions of what wrote and checked it. */
  versions: Record<string, string>;
  /** ISO time of the export. */
  exportedAt: string;
}

/** One exported model. */
export interface ExportedModel {
  /** Trial id. */
  trialId: number;
  /** Its folder. */
  dir: string;
  /** The manifest written there. */
  manifest: ExportManifest;
}

function onnxRuntimeVersion(): string {
  const v = ort.env.versions as { node?: string; common?: string };
  return v.node ?? v.common ?? 'unknown';
}

/** Refuses an --out that is a file, or a non-empty folder without --force. */
export function checkOutDir(outDir: string, force: boolean): void {
  if (!existsSync(outDir)) return;
  if (!statSync(outDir).isDirectory()) {
    throw new UserError(`--out ${outDir} is a file, not a folder. Fix: pass a new or empty folder.`, { subject: '--out' });
  }
  if (readdirSync(outDir).length > 0 && !force) {
    throw new UserError(`--out ${outDir} exists and is not empty; export does not mix its files with others. Fix: pass a new or empty folder, or add --force to write into it (model folders of the same trials are replaced).`, { subject: '--out' });
  }
}

/**
 * Which trials to export, each with its stored model. Every problem is a UserError before anything
 * is written: unknown trial ids, trials without a stored model, a run with none at all.
 */
export async function selectTrials(store: RunStore, run: RunRecord, trialIds: number[] | undefined): Promise<{ trial: TrialRecord; artifact: ModelArtifact }[]> {
  const trials = await store.listTrials(run.id);
  const byId = new Map(trials.map((t) => [t.id, t]));
  const withModel = async (t: TrialRecord) => ({ trial: t, artifact: t.state === 'complete' ? await store.getModel(t.id) : undefined });
  if (trialIds && trialIds.length > 0) {
    const unknown = trialIds.filter((id) => !byId.has(id));
    if (unknown.length > 0) {
      const some = trials.slice(0, 12).map((t) => t.id).join(', ');
      throw new UserError(`--trials ${unknown.join(', ')}: no such trial in run ${run.id}. Fix: pass ids from 'greennas trials ${run.id}'${some ? ` (e.g. ${some})` : ''}.`, { subject: '--trials' });
    }
    const picked = await Promise.all(trialIds.map((id) => withModel(byId.get(id) as TrialRecord)));
    const missing = picked.filter((p) => !p.artifact);
    if (missing.length > 0) {
      const why = missing.map((p) => `${p.trial.id} (${p.trial.state === 'complete' ? 'complete, but no model was stored' : p.trial.state})`).join(', ');
      throw new UserError(`--trials: trial ${why} has no stored model to export; only complete trials of trained spaces keep one. Fix: leave these ids out, or export the run's front without --trials.`, { subject: '--trials' });
    }
    return picked as { trial: TrialRecord; artifact: ModelArtifact }[];
  }
  const front = new Set(await store.getFrontIds(run.id));
  const picked = (await Promise.all(trials.filter((t) => front.has(t.id)).map(withModel))).filter((p) => p.artifact);
  if (picked.length === 0) {
    const anyModel = (await Promise.all(trials.filter((t) => t.state === 'complete').map(withModel))).some((p) => p.artifact);
    throw new UserError(anyModel
      ? `RUN_ID ${run.id}: no trial on the run's front has a stored model. Fix: pick trials with models with --trials.`
      : `RUN_ID ${run.id} has no trained models to export (space ${run.space} on backend ${run.backend}: ${run.backend === 'table' ? 'benchmark-table lookups train nothing' : 'no trial stored one; runs made before greennas kept models have none'}). Fix: export a run of a trained space (e.g. 'greennas search --space mobilenet'), made with this greennas.`,
    { subject: 'RUN_ID' });
  }
  return picked as { trial: TrialRecord; artifact: ModelArtifact }[];
}

function samplesOf(split: DataSplit, count: number): { x: Float32Array; n: number } {
  const n = Math.min(count, split.count);
  const x = new Float32Array(n * split.sampleSize);
  for (let i = 0; i < x.length; i++) x[i] = (split.x[i] as number) / (split.x instanceof Uint8Array ? 255 : 1);
  return { x, n };
}

function predictTfjs(model: tf.LayersModel, x: Float32Array, n: number, inputShape: readonly number[]): Float32Array {
  const out: Float32Array[] = [];
  const size = inputShape.reduce((a, b) => a * b, 1);
  for (let s = 0; s < n; s += 256) {
    const m = Math.min(256, n - s);
    out.push(tf.tidy(() => (model.predict(tf.tensor(x.subarray(s * size, (s + m) * size), [m, ...inputShape])) as tf.Tensor).dataSync() as Float32Array));
  }
  const all = new Float32Array(out.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of out) { all.set(p, o); o += p.length; }
  return all;
}

function argmaxRows(logits: Float32Array, n: number): Int32Array {
  const k = logits.length / n;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < k; c++) if ((logits[i * k + c] as number) > (logits[i * k + best] as number)) best = c;
    out[i] = best;
  }
  return out;
}

/** Top-1 agreement of two logit matrices, their largest absolute difference, and each one's accuracy against labels. */
export function compareLogits(a: Float32Array, b: Float32Array, n: number, labels?: Int32Array): { agreement: number; maxAbsDiff: number; accuracyA?: number; accuracyB?: number } {
  const ta = argmaxRows(a, n);
  const tb = argmaxRows(b, n);
  let agree = 0;
  let maxAbsDiff = 0;
  for (let i = 0; i < n; i++) if (ta[i] === tb[i]) agree++;
  for (let i = 0; i < a.length; i++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs((a[i] as number) - (b[i] as number)));
  const acc = (t: Int32Array) => (labels ? t.reduce((s, v, i) => s + (v === labels[i] ? 1 : 0), 0) / n : undefined);
  return { agreement: agree / n, maxAbsDiff, accuracyA: acc(ta), accuracyB: acc(tb) };
}

function measured(name: string, value: number, unit: string, detail: Record<string, unknown>): MetricValue {
  return { name, value, unit, source: 'measured', detail };
}

/** Builds every file of one model in memory and checks them; nothing is written here. */
async function buildModelFiles(req: ExportRequest, trial: TrialRecord, artifact: ModelArtifact, versions: Record<string, string>): Promise<{ files: Record<string, Uint8Array | string>; manifest: ExportManifest }> {
  const logger = req.logger ?? silentLogger;
  const checks: ExportCheck[] = [];
  const metrics: MetricValue[] = [...trial.metrics];
  const files: Record<string, Uint8Array | string> = {};
  const roles: Record<string, string> = {};
  const format: ExportManifest['format'] = { name: req.format };
  const model = await loadModelArtifact(artifact);
  try {
    if (req.format === 'tfjs') {
      const written = tfjsModelFiles(artifact);
      files['model.json'] = written['model.json'];
      files[TFJS_WEIGHTS_FILE] = written[TFJS_WEIGHTS_FILE];
      roles.topology = 'model.json';
      roles.weights = TFJS_WEIGHTS_FILE;
      // Load the files as tfjs's loader reads them and compare with the stored model on seeded inputs
      // (an identity check: any input shows a difference in bytes or topology).
      const json = JSON.parse(written['model.json']) as { modelTopology: object; weightsManifest: { weights: tf.io.WeightsManifestEntry[] }[] };
      const bytes = written[TFJS_WEIGHTS_FILE];
      const reloaded = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0]!.weights, weightData: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer }));
      try {
        const shape = (model.inputs[0]?.shape ?? []).slice(1).map((d) => d ?? 1);
        const n = 32;
        const x = tf.tidy(() => tf.randomUniform([n, ...shape], 0, 1, 'float32', 7).dataSync() as Float32Array);
        const cmp = compareLogits(predictTfjs(model, x, n, shape), predictTfjs(reloaded, x, n, shape), n);
        checks.push({ name: 'tfjs files reload to the same predictions', passed: cmp.maxAbsDiff === 0, detail: { samples: n, input: 'seeded uniform [0, 1)', maxAbsLogitDiff: cmp.maxAbsDiff } });
        if (cmp.maxAbsDiff !== 0) throw new GreennasError(`trial ${trial.id}: the tfjs files do not reload to the stored model (max |logit diff| ${cmp.maxAbsDiff}); nothing was written`, 'E_EXPORT_MISMATCH');
      } finally {
        reloaded.dispose();
      }
    } else {
      if (!req.data) throw new GreennasError('ONNX export needs the run\'s test and calibration data', 'E_EXPORT');
      const { task, test, calibration } = req.data;
      const metadata = { 'greennas.run': String(req.run.id), 'greennas.trial': String(trial.id), 'greennas.space': req.run.space, 'greennas.arch': JSON.stringify(trial.arch) };
      const onnx = layersModelToOnnx(model, { graphName: `run${req.run.id}_trial${trial.id}`, metadata });
      files['model.onnx'] = onnx.bytes;
      roles.fp32 = 'model.onnx';
      format.onnxIrVersion = ONNX_IR_VERSION;
      format.onnxOpset = ONNX_OPSET;
      const { x, n } = samplesOf(test, test.count);
      const labels = test.y.subarray(0, n);
      const tfLogits = predictTfjs(model, x, n, task.inputShape);
      const fpLogits = await predictOnnx(onnx.bytes, x, onnx.inputShape, n);
      const fp = compareLogits(tfLogits, fpLogits, n, labels);
      const runtime = `onnxruntime-node ${versions.onnxruntime}`;
      checks.push({ name: 'FP32 ONNX agrees with tfjs', passed: fp.agreement >= ONNX_MIN_AGREEMENT && fp.maxAbsDiff <= ONNX_LOGIT_TOLERANCE,
        detail: { samples: n, split: 'test', top1Agreement: fp.agreement, minAgreement: ONNX_MIN_AGREEMENT, maxAbsLogitDiff: fp.maxAbsDiff, logitTolerance: ONNX_LOGIT_TOLERANCE, foldedBatchNorms: onnx.foldedBatchNorms } });
      if (fp.agreement < ONNX_MIN_AGREEMENT || fp.maxAbsDiff > ONNX_LOGIT_TOLERANCE) {
        throw new GreennasError(`trial ${trial.id}: the ONNX model does not compute what the tfjs model does (top-1 agreement ${fp.agreement}, max |logit diff| ${fp.maxAbsDiff}); nothing was written`, 'E_EXPORT_MISMATCH');
      }
      metrics.push(measured('accuracy.onnx', fp.accuracyB as number, 'fraction', { split: 'test', samples: n, runtime, precision: 'fp32' }));
      const probe = { batchSize: 1, warmupRuns: 5, timedRuns: 30 };
      const latFp = await probeOnnxLatency(onnx.bytes, onnx.inputShape, probe);
      metrics.push(measured('latency.onnx.cpu', latFp.medianMs, 'ms', { runtime, precision: 'fp32', intraOpThreads: 1, batchSize: 1, warmupRuns: probe.warmupRuns, timedRuns: probe.timedRuns, probe: 'median of timed runs after warm-up' }));
      if (req.int8) {
        const cal = samplesOf(calibration, INT8_CALIBRATION_SAMPLES);
        const q = await quantizeOnnxInt8(onnx.bytes, { input: cal.x, count: cal.n });
        files['model.int8.onnx'] = q.bytes;
        roles.int8 = 'model.int8.onnx';
        // What onnxruntime really runs: the graph after its optimisations, which must hold integer kernels.
        const tmp = mkdtempSync(join(tmpdir(), 'greennas-ort-'));
        let ops: Record<string, number>;
        try {
          const optimized = join(tmp, 'optimized.onnx');
          const s = await openOnnxSession(q.bytes, { optimizedModelFilePath: optimized });
          await s.release();
          ops = onnxOpCounts(new Uint8Array(readFileSync(optimized)));
        } finally {
          rmSync(tmp, { recursive: true, force: true });
        }
        const integerOps = Object.fromEntries(Object.entries(ops).filter(([op]) => /^QLinear|^QGemm|Integer/.test(op)));
        const floatCompute = Object.fromEntries(Object.entries(ops).filter(([op]) => /^(Conv|Gemm|MatMul|FusedConv|FusedGemm|FusedMatMul)$/.test(op)));
        checks.push({ name: 'INT8 model runs integer kernels in onnxruntime', passed: Object.keys(integerOps).length > 0 && Object.keys(floatCompute).length === 0,
          detail: { integerOps, floatComputeOps: floatCompute, optimizedOps: ops } });
        const qLogits = await predictOnnx(q.bytes, x, onnx.inputShape, n);
        const qc = compareLogits(fpLogits, qLogits, n, labels);
        checks.push({ name: 'INT8 agreement with FP32 (reported, not a pass/fail bound)', passed: true, detail: { samples: n, split: 'test', top1Agreement: qc.agreement, maxAbsLogitDiff: qc.maxAbsDiff } });
        metrics.push(measured('accuracy.onnx.int8', qc.accuracyB as number, 'fraction', { split: 'test', samples: n, runtime, precision: 'int8', calibration: { split: 'validation', samples: cal.n } }));
        const latQ = await probeOnnxLatency(q.bytes, onnx.inputShape, probe);
        metrics.push(measured('latency.onnx.cpu.int8', latQ.medianMs, 'ms', { runtime, precision: 'int8', intraOpThreads: 1, batchSize: 1, warmupRuns: probe.warmupRuns, timedRuns: probe.timedRuns, probe: 'median of timed runs after warm-up' }));
        format.int8 = { ...q.detail, integerOps };
        logger.info(`trial ${trial.id}: INT8 accuracy ${(qc.accuracyB as number).toFixed(4)} vs FP32 ${(fp.accuracyB as number).toFixed(4)}; latency ${latQ.medianMs.toFixed(3)} ms vs ${latFp.medianMs.toFixed(3)} ms (batch 1, one thread)`);
      }
    }
  } finally {
    model.dispose();
  }
  const run = req.run;
  const manifest: ExportManifest = {
    manifestVersion: 1,
    run: { id: run.id, space: run.space, spaceVersion: run.spaceVersion, dataset: run.dataset, strategy: run.strategy, seed: run.seed, backend: run.backend, createdAt: run.createdAt },
    trial: { id: trial.id, seq: trial.seq, key: trial.key, kind: trial.kind, ...(trial.parentTrialId !== undefined ? { parentTrialId: trial.parentTrialId } : {}), state: trial.state, backend: trial.backend, worker: trial.worker },
    arch: trial.arch,
    steps: trial.steps ?? [],
    metrics,
    files: { ...roles, manifest: 'manifest.json' },
    format,
    checks,
    versions,
    exportedAt: new Date().toISOString(),
  };
  return { files, manifest };
}

/** Refuses bad requests with a UserError (flags, --out, unknown trials, missing models); returns the trials and their models. */
export async function checkExportRequest(store: RunStore, req: Omit<ExportRequest, 'data'>): Promise<{ trial: TrialRecord; artifact: ModelArtifact }[]> {
  if (req.int8 && req.format !== 'onnx') throw new UserError(`--int8 needs --format onnx: tfjs has no INT8 kernels, ONNX Runtime has. Fix: add --format onnx, or leave out --int8.`, { subject: '--int8' });
  checkOutDir(resolve(req.outDir), req.force);
  return selectTrials(store, req.run, req.trialIds);
}

/**
 * Exports stored models of a run: one folder per trial (`trial-<id>`) with the model files and a
 * manifest.json (architecture, metrics with their source, kind, parent, compression steps, run,
 * backend, versions, and the checks run on the files). Bad input is refused before anything is
 * written; every model is built and checked in memory before its folder is written.
 */
export async function exportModels(store: RunStore, req: ExportRequest): Promise<ExportedModel[]> {
  const picked = await checkExportRequest(store, req);
  const outDir = resolve(req.outDir);
  const versions: Record<string, string> = { greennas: VERSION, tfjs: tf.version.tfjs, node: process.versions.node, ...(req.format === 'onnx' ? { onnxruntime: onnxRuntimeVersion(), onnxIr: String(ONNX_IR_VERSION), onnxOpset: String(ONNX_OPSET) } : {}) };
  const built: { trial: TrialRecord; files: Record<string, Uint8Array | string>; manifest: ExportManifest }[] = [];
  for (const { trial, artifact } of picked) {
    (req.logger ?? silentLogger).info(`trial ${trial.id}: exporting ${req.format}${req.int8 ? ' + int8' : ''}`);
    built.push({ trial, ...(await buildModelFiles(req, trial, artifact, versions)) });
  }
  const out: ExportedModel[] = [];
  mkdirSync(outDir, { recursive: true });
  for (const b of built) {
    const dir = join(outDir, `trial-${b.trial.id}`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir);
    for (const [name, content] of Object.entries(b.files)) writeFileSync(join(dir, name), content);
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(b.manifest, null, 2) + '\n');
    out.push({ trialId: b.trial.id, dir, manifest: b.manifest });
  }
  return out;
}
