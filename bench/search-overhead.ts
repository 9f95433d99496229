/**
 * Engine + store overhead of a search with no training: a random search on the NAS-Bench-201 table,
 * timed as a whole `greennas search` process (SQLite store included), beside Optuna's RandomSampler on
 * the same table, budget and objectives, in the same run (in memory, and with its SQLite storage).
 *
 *   npm run bench:search-overhead [-- --trials 10000 --optuna-sqlite-trials 2000]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = join(root, 'dist', 'src', 'cli', 'main.js');
const csv = join(root, 'search-spaces', 'nasbench201', 'nb201_acc_hw.csv');
const python = '/usr/bin/python3';

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

function timeGreennas(trials: number): number {
  const dir = mkdtempSync(join(tmpdir(), 'greennas-bench-'));
  try {
    const started = performance.now();
    const r = spawnSync(process.execPath, [cli, 'search', '--space', 'nasbench201', '--dataset', 'cifar10',
      '--objectives', 'accuracy,latency.edgegpu,energy.edgegpu', '--strategy', 'random', '--trials', String(trials),
      '--seed', '1', '--db', join(dir, 'bench.db'), '--quiet', '--json'], { encoding: 'utf8', maxBuffer: 1 << 28 });
    const wallS = (performance.now() - started) / 1000;
    if (r.status !== 0) throw new Error(`greennas search failed: ${r.stderr}`);
    return wallS;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function timeOptuna(trials: number, storage: 'memory' | 'sqlite'): { wallS: number; processS: number } | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'greennas-bench-optuna-'));
  try {
    const url = storage === 'memory' ? 'memory' : `sqlite:///${join(dir, 'optuna.db')}`;
    const started = performance.now();
    const r = spawnSync(python, [join(root, 'bench', 'search-overhead-optuna.py'), csv, String(trials), url], { encoding: 'utf8' });
    const processS = (performance.now() - started) / 1000;
    if (r.status !== 0) {
      process.stderr.write(`optuna peer unavailable (${python} with python3-optuna): ${r.stderr.split('\n').slice(-3).join(' ')}\n`);
      return undefined;
    }
    return { wallS: (JSON.parse(r.stdout.trim()) as { wallS: number }).wallS, processS };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const trials = flag('--trials', 10_000);
const sqliteTrials = flag('--optuna-sqlite-trials', 2_000);
const load = () => (process.platform === 'linux' ? spawnSync('cat', ['/proc/loadavg'], { encoding: 'utf8' }).stdout.trim() : 'n/a');
process.stderr.write(`load before: ${load()}\n`);
const g = timeGreennas(trials);
const om = timeOptuna(trials, 'memory');
const os = timeOptuna(sqliteTrials, 'sqlite');
process.stderr.write(`load after: ${load()}\n`);
const rate = (n: number, s: number) => n / s;
const rows = [
  { peer: 'greennas (whole process, SQLite store)', trials, wallS: g, trialsPerS: rate(trials, g) },
  ...(om ? [{ peer: 'optuna RandomSampler, in memory (study only)', trials, wallS: om.wallS, trialsPerS: rate(trials, om.wallS) }] : []),
  ...(os ? [{ peer: 'optuna RandomSampler, SQLite storage (study only)', trials: sqliteTrials, wallS: os.wallS, trialsPerS: rate(sqliteTrials, os.wallS) }] : []),
];
for (const r of rows) {
  const ratio = r.trialsPerS / rows[0]!.trialsPerS;
  process.stdout.write(`${r.peer.padEnd(52)} ${String(r.trials).padStart(6)} trials  ${r.wallS.toFixed(2).padStart(7)} s  ${r.trialsPerS.toFixed(0).padStart(6)} trials/s  (${ratio.toFixed(2)}× greennas)\n`);
}
process.stdout.write(`target: ${trials} trials in under 30 s — ${g < 30 ? 'met' : 'NOT met'} (${g.toFixed(1)} s)\n`);
