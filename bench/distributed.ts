/**
 * Throughput of a distributed search: trials per minute with 1, 2 and 4 worker processes, and the
 * coordinator's overhead per trial (its CPU time after start-up, and the wall time per trial that no
 * worker spent evaluating).
 *
 * - default: the NAS-Bench-201 table with an artificial per-trial delay, beside the ideal
 *   (workers × 60 000 / delay);
 * - `--proxy`: a small real proxy search (mobilenet space, Fashion-MNIST, one epoch over a small
 *   subset, one training thread per worker process), beside the same trials run by a single-process
 *   search with one training thread, measured in the same run; its time per trial stands in for the delay.
 *
 *   npm run bench:distributed [-- --trials 60 --delay-ms 250 --repeats 3]
 *   npm run bench:distributed -- --proxy [--trials 8 --train-subset 512 --repeats 1]
 *
 * Needs a PostgreSQL server: GREENNAS_BENCH_PG_URL (a role that may CREATE DATABASE), or, unset, a
 * private one started with .ci/postgres.sh for the run.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { PgRunStore, SqliteRunStore } from '../src/store/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = join(root, 'dist', 'src', 'cli', 'main.js');
const pgScript = join(root, '.ci', 'postgres.sh');
const NB = ['--space', 'nasbench201', '--dataset', 'cifar10', '--objectives', 'accuracy,latency.edgegpu,energy.edgegpu', '--strategy', 'random'];
const PROXY_MODE = process.argv.includes('--proxy');

/** Search flags of the small real proxy search (random, so every run of it trains the same architectures). */
function proxySearch(trainSubset: number): string[] {
  return ['--space', 'mobilenet', '--strategy', 'random', '--epochs', '1', '--train-subset', String(trainSubset),
    '--validation-subset', '200', '--test-subset', '500', '--prune-margin', 'off', '--latency-batch', '8'];
}
const CLK_TCK = 100; // Linux's USER_HZ: /proc/<pid>/stat counts CPU time in these

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

/** CPU time (user + system) of a live process, in ms; undefined once it is gone. */
function cpuMs(pid: number): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
  } catch {
    return undefined;
  }
}

/** Trials and per-trial evaluation time of the searched workload (fixed delay, or a measured proxy trial). */
interface Workload { searchFlags: string[]; workerFlags: string[]; evalMs: number }

function run(args: string[]): { exited: Promise<number | null>; pid: number } {
  const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
  return { exited: new Promise((r) => child.on('exit', (c) => r(c))), pid: child.pid as number };
}

interface Sample { workers: number; trialsPerMin: number; idealPerMin: number; overheadMsPerTrial: number; coordinatorCpuMsPerTrial: number }

async function once(adminUrl: string, workers: number, trials: number, load: Workload): Promise<Sample> {
  const name = `gn_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  const url = u.toString();
  try {
    const coord = run(['search', ...load.searchFlags, '--trials', String(trials), '--seed', '1', '--db', url, '--distributed', '--queue-depth', String(2 * workers), '--quiet']);
    let coordCpu = 0;
    const sampler = setInterval(() => { coordCpu = cpuMs(coord.pid) ?? coordCpu; }, 50);
    let store: PgRunStore | undefined;
    while (!store) store = await PgRunStore.open(url, { mode: 'existing' }).catch(async () => { await new Promise((r) => setTimeout(r, 100)); return undefined; });
    while (!(await store.getRun(1))) await new Promise((r) => setTimeout(r, 50));
    const startupCpu = cpuMs(coord.pid) ?? 0; // module loading and set-up are not per-trial costs
    const procs = Array.from({ length: workers }, () => run(['worker', '--db', url, '--run', '1', ...load.workerFlags]));
    const code = await coord.exited;
    clearInterval(sampler);
    await Promise.all(procs.map((p) => p.exited));
    if (code !== 0) throw new Error(`coordinator exited ${code}`);
    const stored = await store.listTrials(1);
    await store.close();
    if (stored.length !== trials || stored.some((t) => t.state === 'running')) throw new Error('not every trial finished');
    // From the first trial queued to the last one stored: process start-up is not the queue's cost.
    const first = Math.min(...stored.map((t) => Date.parse(t.startedAt)));
    const last = Math.max(...stored.map((t) => Date.parse(t.finishedAt as string)));
    const spanMs = last - first;
    return {
      workers, trialsPerMin: (trials * 60_000) / spanMs, idealPerMin: (workers * 60_000) / load.evalMs,
      overheadMsPerTrial: (workers * spanMs - trials * load.evalMs) / trials, coordinatorCpuMsPerTrial: (coordCpu - startupCpu) / trials,
    };
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {});
    await admin.end();
  }
}

const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)] as number; };

/** Wall time per trial of the proxy search run by one process with one training thread (SQLite, no queue). */
async function singleProcessMsPerTrial(trials: number, trainSubset: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'greennas-bench-local-'));
  try {
    const db = join(dir, 'local.db');
    const p = run(['search', ...proxySearch(trainSubset), '--trials', String(trials), '--seed', '1', '--db', db, '--workers', '1', '--quiet']);
    if ((await p.exited) !== 0) throw new Error('single-process search failed');
    const store = SqliteRunStore.open(db, { mode: 'existing' });
    const stored = await store.listTrials(1);
    await store.close();
    const first = Math.min(...stored.map((t) => Date.parse(t.startedAt)));
    const last = Math.max(...stored.map((t) => Date.parse(t.finishedAt as string)));
    return (last - first) / trials;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const trials = flag('--trials', PROXY_MODE ? 8 : 60);
  const delayMs = flag('--delay-ms', 250);
  const repeats = flag('--repeats', PROXY_MODE ? 1 : 3);
  const trainSubset = flag('--train-subset', 512);
  let adminUrl = process.env.GREENNAS_BENCH_PG_URL;
  let dir: string | undefined;
  if (!adminUrl) {
    dir = mkdtempSync(join(tmpdir(), 'greennas-bench-pg-'));
    adminUrl = execFileSync(pgScript, ['start', dir], { encoding: 'utf8' }).trim();
  }
  try {
    let load: Workload;
    if (PROXY_MODE) {
      process.stderr.write(`distributed bench (proxy search): ${trials} trials, ${trainSubset} training samples each, ${repeats} repeats; load ${readFileSync('/proc/loadavg', 'utf8').trim()}\n`);
      const evalMs = await singleProcessMsPerTrial(trials, trainSubset);
      process.stdout.write(`single process, 1 training thread: ${(60_000 / evalMs).toFixed(2)} trials/min (${(evalMs / 1000).toFixed(1)} s per trial)\n`);
      load = { searchFlags: proxySearch(trainSubset), workerFlags: ['--workers', '1'], evalMs };
    } else {
      process.stderr.write(`distributed bench: ${trials} trials, ${delayMs} ms per trial, ${repeats} repeats; load ${readFileSync('/proc/loadavg', 'utf8').trim()}\n`);
      load = { searchFlags: NB, workerFlags: ['--eval-delay-ms', String(delayMs)], evalMs: delayMs };
    }
    const rows: Sample[] = [];
    for (const workers of [1, 2, 4]) {
      const samples: Sample[] = [];
      for (let r = 0; r < repeats; r++) samples.push(await once(adminUrl, workers, trials, load));
      const m: Sample = {
        workers, trialsPerMin: median(samples.map((s) => s.trialsPerMin)), idealPerMin: samples[0]?.idealPerMin ?? 0,
        overheadMsPerTrial: median(samples.map((s) => s.overheadMsPerTrial)), coordinatorCpuMsPerTrial: median(samples.map((s) => s.coordinatorCpuMsPerTrial)),
      };
      rows.push(m);
      process.stdout.write(`${workers} worker(s): ${m.trialsPerMin.toFixed(1)} trials/min (${PROXY_MODE ? 'workers × single-process rate' : 'ideal'} ${m.idealPerMin.toFixed(1)}, ratio ${(m.trialsPerMin / m.idealPerMin).toFixed(2)}), ` +
        `overhead ${m.overheadMsPerTrial.toFixed(1)} ms/trial, coordinator CPU ${m.coordinatorCpuMsPerTrial.toFixed(1)} ms/trial ` +
        `[runs: ${samples.map((s) => s.trialsPerMin.toFixed(1)).join(', ')}]\n`);
    }
    const one = rows[0]?.trialsPerMin ?? 1;
    process.stdout.write(`speed-up over 1 worker: ${rows.map((r) => `${r.workers}: ${(r.trialsPerMin / one).toFixed(2)}x`).join(', ')}; load after ${readFileSync('/proc/loadavg', 'utf8').trim()}\n`);
  } finally {
    if (dir) {
      execFileSync(pgScript, ['stop', dir]);
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

await main();
