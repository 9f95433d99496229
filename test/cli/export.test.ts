import { beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { DEBIAN_FASHION_MNIST_DIR } from '../../src/data/index.js';
import type { ExportManifest } from '../../src/export/index.js';
import { SqliteRunStore } from '../../src/store/index.js';
import { loadModelArtifact } from '../../src/trainer/index.js';
import { repoRoot, runCli } from '../helpers/run-cli.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'greennas-export-'));
const PROBE = join(repoRoot, 'test', 'fixtures', 'trainer', 'probe-space.mjs');
const hasPythonOnnx = (() => {
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import onnx'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** tfjs's own loader over files on disk: reads model.json, then every weights path it lists, as a file:// handler does. */
function fileHandler(dir: string): tf.io.IOHandler {
  return {
    load: async () => {
      const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as { modelTopology: object; weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[] };
      const buffers = json.weightsManifest.flatMap((g) => g.paths.map((p) => readFileSync(join(dir, p))));
      const all = Buffer.concat(buffers);
      return { modelTopology: json.modelTopology, weightSpecs: json.weightsManifest.flatMap((g) => g.weights), weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) };
    },
  };
}

describe('export: bad input exits 2 naming what is wrong, and writes nothing', () => {
  it('refuses a bad --format', () => {
    const db = join(tmp(), 'none.db');
    const f = runCli(['export', '1', '--db', db, '--format', 'keras', '--out', join(tmp(), 'o')]);
    expect(f.status).toBe(2);
    expect(f.stderr).toMatch(/--format must be tfjs or onnx, got 'keras'/);
  });
});

describe.runIf(existsSync(join(DEBIAN_FASHION_MNIST_DIR, 'train-labels-idx1-ubyte.gz')))('export of a real (tiny) proxy search', () => {
  const dir = tmp();
  const db = join(dir, 'r.db');
  let frontIds: number[] = [];

  beforeAll(() => {
    const r = runCli(['search', '--space', PROBE, '--train-subset', '64', '--epochs', '1', '--batch-size', '16', '--validation-subset', '40', '--test-subset', '200',
      '--workers', '1', '--meter', 'estimate', '--trials', '2', '--strategy', 'random', '--seed', '3', '--db', db, '--json'], { timeoutMs: 300_000 });
    expect(r.status, r.stderr).toBe(0);
    frontIds = (JSON.parse(r.stdout) as { front: { id: number }[] }).front.map((f) => f.id);
    expect(frontIds.length).toBeGreaterThan(0);
  }, 300_000);

  it('writes tfjs files that tf.loadLayersModel reads back into the same model, with a manifest', async () => {
    const out = join(dir, 'tfjs');
    const r = runCli(['export', '1', '--db', db, '--format', 'tfjs', '--out', out, '--json']);
    expect(r.status, r.stderr).toBe(0);
    const listed = JSON.parse(r.stdout) as { trialId: number; dir: string }[];
    expect(listed.map((e) => e.trialId).sort()).toEqual([...frontIds].sort());
    const store = SqliteRunStore.open(db, { mode: 'existing' });
    try {
      for (const e of listed) {
        expect(readdirSync(e.dir).sort()).toEqual(['group1-shard1of1.bin', 'manifest.json', 'model.json']);
        const manifest = JSON.parse(readFileSync(join(e.dir, 'manifest.json'), 'utf8')) as ExportManifest;
        const trial = await store.getTrial(e.trialId);
        expect(manifest.run).toMatchObject({ id: 1, space: PROBE, dataset: 'fashion-mnist' });
        expect(manifest.trial).toMatchObject({ id: e.trialId, kind: 'search', key: trial?.key });
        expect(manifest.arch).toEqual(trial?.arch);
        expect(manifest.metrics).toEqual(trial?.metrics);
        expect(manifest.versions).toMatchObject({ tfjs: tf.version.tfjs });
        expect(manifest.checks.every((c) => c.passed)).toBe(true);
        const loaded = await tf.loadLayersModel(fileHandler(e.dir));
        const stored = await loadModelArtifact((await store.getModel(e.trialId))!);
        const x = tf.randomUniform([8, 28, 28, 1], 0, 1, 'float32', 7);
        const [a, b] = [loaded.predict(x) as tf.Tensor, stored.predict(x) as tf.Tensor];
        expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
        tf.dispose([x, a, b]);
        loaded.dispose();
        stored.dispose();
      }
    } finally {
      await store.close();
    }
  }, 120_000);

  it('writes FP32 and INT8 ONNX with measured accuracy and latency, checked by ONNX Runtime and (when installed) ONNX', () => {
    const out = join(dir, 'onnx');
    const id = frontIds[0] as number;
    const r = runCli(['export', '1', '--db', db, '--trials', String(id), '--format', 'onnx', '--int8', '--out', out, '--json'], { timeoutMs: 300_000 });
    expect(r.status, r.stderr).toBe(0);
    const [e] = JSON.parse(r.stdout) as { trialId: number; dir: string; manifest: ExportManifest }[];
    expect(e?.trialId).toBe(id);
    expect(readdirSync(e!.dir).sort()).toEqual(['manifest.json', 'model.int8.onnx', 'model.onnx']);
    const m = e!.manifest;
    expect(m.format).toMatchObject({ name: 'onnx', onnxIrVersion: 8, onnxOpset: 13 });
    expect(m.checks.map((c) => [c.name, c.passed])).toEqual([
      ['FP32 ONNX agrees with tfjs', true], ['INT8 model runs integer kernels in onnxruntime', true], ['INT8 agreement with FP32 (reported, not a pass/fail bound)', true],
    ]);
    const metric = (name: string) => m.metrics.find((x) => x.name === name);
    expect(metric('accuracy.onnx')).toMatchObject({ unit: 'fraction', source: 'measured', detail: { split: 'test', samples: 200, precision: 'fp32' } });
    // FP32 ONNX scores what tfjs scored on the same test samples (the run's stored accuracy).
    expect(metric('accuracy.onnx')?.value).toBeCloseTo(metric('accuracy')?.value as number, 2);
    expect(metric('accuracy.onnx.int8')).toMatchObject({ source: 'measured', detail: { precision: 'int8', calibration: { split: 'validation' } } });
    expect(metric('latency.onnx.cpu')?.value).toBeGreaterThan(0);
    expect(metric('latency.onnx.cpu.int8')?.value).toBeGreaterThan(0);
    expect(m.format.int8).toMatchObject({ format: 'QDQ', integerOps: { QGemm: 2 } });
    if (hasPythonOnnx) {
      for (const f of ['model.onnx', 'model.int8.onnx']) {
        execFileSync('/usr/bin/python3', ['-c', 'import sys, onnx; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)', join(e!.dir, f)]);
      }
    }
  }, 300_000);

  it('refuses a non-empty --out without --force (writing nothing), and writes beside what is there with --force', () => {
    const out = join(dir, 'busy');
    mkdirSync(out);
    writeFileSync(join(out, 'keep.txt'), 'mine');
    const busy = runCli(['export', '1', '--db', db, '--format', 'tfjs', '--out', out]);
    expect(busy.status).toBe(2);
    expect(busy.stderr).toMatch(/--out .* exists and is not empty.*Fix: .*--force/);
    expect(readdirSync(out)).toEqual(['keep.txt']);
    const forced = runCli(['export', '1', '--db', db, '--format', 'tfjs', '--out', out, '--force']);
    expect(forced.status, forced.stderr).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['keep.txt', ...frontIds.map((id) => `trial-${id}`)].sort());
    expect(readFileSync(join(out, 'keep.txt'), 'utf8')).toBe('mine');
  }, 120_000);
});
