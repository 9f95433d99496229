import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteRunStore } from '../../src/store/index.js';
import { runCli } from '../helpers/run-cli.js';

/*
 * compare and report against a real SQLite store: a trained-space run with two search trials (as a
 * search stores them) and a tiny proxy budget, so compare trains a proxy-scale MobileNetV2 on
 * Fashion-MNIST in a few steps and scales the full-size one by multiply-adds (--full-steps 0).
 */

let dir: string;
let db: string;
let runId: number;
let tableRunId: number;

const arch = (width: number) => ({ width, stages: [1, 2, 3, 4, 5].map(() => ({ layers: 1, expand: 1, kernel: 3, se: false, skip: 'none' })) });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'greennas-compare-'));
  db = join(dir, 'runs.db');
  const store = SqliteRunStore.open(db, { mode: 'create' });
  const proxy = { epochs: 1, trainSubset: 60, maxSteps: 2, batchSize: 16, optimizer: 'adam', learningRate: 3e-3, validationSubset: 30, testSubset: 40, pruneMargin: null, latencyBatch: 2, backend: 'auto', energy: { meter: 'estimate' }, workers: 1 };
  const run = await store.createRun({
    space: 'mobilenet', spaceVersion: '1.0.0', dataset: 'fashion-mnist', strategy: 'random', seed: 3, budget: 2, objectives: ['accuracy.val', 'latency.cpu', 'energy.train'],
    settings: { proxy }, versions: {}, backend: 'wasm', host: 'test',
  });
  runId = run.id;
  for (const [seq, w, acc, energyJ] of [[0, 0.5, 0.61, 12], [1, 1.0, 0.7, 30]] as const) {
    const t = await store.startTrial(run.id, { seq, key: `k${seq}`, arch: arch(w) });
    await store.finishTrial(t.id, {
      state: 'complete', durationMs: 1, tellSeq: seq,
      metrics: [
        { name: 'accuracy', value: acc, unit: 'fraction', source: 'measured' }, { name: 'accuracy.val', value: acc, unit: 'fraction', source: 'measured' },
        { name: 'latency.cpu', value: 2 + seq, unit: 'ms', source: 'measured' }, { name: 'energy.train', value: energyJ, unit: 'J', source: 'estimated' },
        { name: 'energy.infer', value: 0.01, unit: 'J', source: 'estimated' }, { name: 'params', value: 1e4 * (seq + 1), unit: 'count', source: 'computed' },
        { name: 'macs', value: 1e6 * (seq + 1), unit: 'count', source: 'computed' }, { name: 'train.seconds', value: 3 + seq, unit: 's', source: 'measured' },
      ],
    });
    await store.setFront(run.id, [...(await store.getFrontIds(run.id)), t.id]);
  }
  tableRunId = (await store.createRun({ space: 'nasbench201', spaceVersion: '1', dataset: 'cifar10', strategy: 'random', seed: 1, budget: 1, objectives: ['accuracy'], settings: {}, versions: {}, backend: 'table', host: 'test' })).id;
  await store.close();
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('greennas baselines', () => {
  it('--json lists the four baselines with params and multiply-adds at the reference input', () => {
    const r = runCli(['baselines', '--json']);
    expect(r.status).toBe(0);
    const rows = JSON.parse(r.stdout) as { name: string; params: number; macs: number }[];
    expect(rows.map((x) => [x.name, x.params])).toEqual([['resnet50', 25_557_032], ['mobilenetv2', 3_504_872], ['bert-base', 109_482_240], ['distilbert', 66_362_880]]);
    expect(rows.every((x) => Number.isInteger(x.macs) && x.macs > 1e8)).toBe(true);
  });
});

describe('greennas compare and report', () => {
  it('trains the baseline on the run\'s data, stores it, and prints the table with changes in % and points', () => {
    const r = runCli(['compare', String(runId), '--db', db, '--models', 'mobilenetv2', '--full-steps', '0', '--json'], { timeoutMs: 300_000 });
    expect(r.stderr).not.toMatch(/Error/);
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as { rows: { role: string; name: string; accuracy?: number; trainEnergyJ?: number; params?: number; inferEnergyJ?: number; latencyMs?: number; inferSideBySide?: boolean; extrapolated?: { method: string } }[]; deltas: { accuracyPoints?: number; paramsPct?: number }[]; baselines: { outcome: string }[] };
    expect(out.baselines.map((b) => b.outcome)).toEqual(['trained', 'extrapolated']);
    const names = out.rows.map((x) => `${x.role}:${x.name}`);
    expect(names).toEqual(expect.arrayContaining(['baseline:MobileNetV2 ×0.5w ×0.5d', 'baseline:MobileNetV2']));
    expect(out.rows.filter((x) => x.role === 'front')).toHaveLength(2);
    const proxy = out.rows.find((x) => x.name === 'MobileNetV2 ×0.5w ×0.5d')!;
    expect(proxy.accuracy).toBeGreaterThanOrEqual(0);
    expect(proxy.trainEnergyJ).toBeGreaterThan(0);
    // Timed again beside the other models with a stored one (here only the trained baseline; the fixture's front has no models).
    expect(proxy.inferSideBySide).toBe(true);
    expect(proxy.inferEnergyJ).toBeGreaterThan(0);
    expect(proxy.latencyMs).toBeGreaterThan(0);
    expect(out.rows.filter((x) => x.role === 'front').every((x) => x.inferSideBySide === undefined && x.inferEnergyJ === 0.01)).toBe(true);
    const full = out.rows.find((x) => x.name === 'MobileNetV2')!;
    expect(full.extrapolated?.method).toBe('macs-ratio');
    expect(full.accuracy).toBeUndefined();
    expect(full.params).toBe(3_504_872 - 2 * 9 * 32 - 990 * 1281);
    expect(out.deltas).toHaveLength(2 * 2);
    expect(out.deltas.every((d) => d.paramsPct !== undefined)).toBe(true);
  }, 320_000);

  it('reuses stored baselines on a second compare and prints the text table', () => {
    const r = runCli(['compare', String(runId), '--db', db, '--models', 'mobilenetv2', '--full-steps', '0'], { timeoutMs: 120_000 });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/J per acc\. point/);
    expect(r.stdout).toMatch(/Change against each baseline/);
    expect(r.stdout).toMatch(/MobileNetV2 ×0\.5w ×0\.5d/);
    expect(r.stdout).toMatch(/scaled by the ratio of multiply-adds/);
    expect(r.stderr).toMatch(/1 worker/); // data loaded, but nothing trained:
    expect(r.stderr).not.toMatch(/compare: training/);
  }, 130_000);

  it('report writes HTML, Markdown and CSV', () => {
    const html = join(dir, 'r.html');
    const md = join(dir, 'r.md');
    const csv = join(dir, 'r.csv');
    const r = runCli(['report', String(runId), '--db', db, '--html', html, '--md', md, '--csv', csv]);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('');
    const page = readFileSync(html, 'utf8');
    expect(page).toContain('<svg');
    expect(page).toContain('MobileNetV2 ×0.5w ×0.5d');
    expect(readFileSync(md, 'utf8')).toMatch(/^\| model \| role \|/m);
    const lines = readFileSync(csv, 'utf8').trim().split('\r\n');
    expect(lines[0]).toMatch(/^trial_id,role,model,params,macs,train_energy_j/);
    expect(lines).toHaveLength(1 + 4);
  });

  it('refuses bad input with exit 2 and a fix', () => {
    const missing = runCli(['report', '99', '--db', db]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/RUN_ID 99: no such run/);
    const table = runCli(['compare', String(tableRunId), '--db', db]);
    expect(table.status).toBe(2);
    expect(table.stderr).toMatch(/benchmark table/);
    const steps = runCli(['compare', String(runId), '--db', db, '--full-steps', '-1']);
    expect(steps.status).toBe(2);
    expect(steps.stderr).toMatch(/--full-steps/);
    const unknown = runCli(['compare', String(runId), '--db', db, '--models', 'vgg16']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/--models: 'vgg16' is not a baseline/);
  }, 200_000);
});
