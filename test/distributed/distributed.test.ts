import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import pg from 'pg';
import { cliPath, repoRoot, runCli } from '../helpers/run-cli.js';
import { freshPgDatabase, testPgUrl } from '../helpers/postgres.js';
import { PgRunStore, type TrialRecord } from '../../src/store/index.js';
import { QUEUE_SCHEMA } from '../../src/distributed/index.js';

const NB = ['--space', 'nasbench201', '--dataset', 'cifar10', '--objectives', 'accuracy,latency.edgegpu,energy.edgegpu', '--strategy', 'random'];
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

interface Proc { command: string; child: ChildProcess; stderr: string; stdout: string; exited: Promise<number | null> }

const procs: Proc[] = [];
// A failed or timed-out test prints what each of its processes said: a hang otherwise leaves no trace of which await stuck.
beforeEach(({ onTestFailed }) => {
  procs.length = 0;
  onTestFailed(() => {
    for (const p of procs) {
      const end = p.child.exitCode ?? p.child.signalCode ?? 'still running';
      console.error(`--- greennas ${p.command} (pid ${p.child.pid}, exit ${end}) stderr:\n${p.stderr}`);
    }
  });
});

function start(args: string[]): Proc {
  const child = spawn(process.execPath, [cliPath, ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  const p: Proc = { command: args[0] ?? '', child, stderr: '', stdout: '', exited: new Promise((r) => child.on('exit', (code) => r(code))) };
  procs.push(p);
  child.stderr?.on('data', (d: Buffer) => { p.stderr += d.toString(); });
  child.stdout?.on('data', (d: Buffer) => { p.stdout += d.toString(); });
  cleanups.push(async () => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); });
  return p;
}

async function until<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function db(prefix: string) {
  const d = await freshPgDatabase(prefix);
  cleanups.push(d.drop);
  return d.url;
}

/** The front of a single-machine SQLite run of the same trials, as a set of architectures. */
function localRun(trials: number, seed: number): { keys: string[]; front: string[] } {
  const file = join(mkdtempSync(join(tmpdir(), 'greennas-dist-')), 'local.db');
  const r = runCli(['search', ...NB, '--trials', String(trials), '--seed', String(seed), '--db', file, '--json', '--quiet']);
  expect(r.status).toBe(0);
  const out = JSON.parse(r.stdout) as { runId: number; front: { arch: string }[] };
  const all = JSON.parse(runCli(['trials', String(out.runId), '--db', file, '--json']).stdout) as { arch: string }[];
  return { keys: all.map((t) => t.arch).sort(), front: out.front.map((t) => t.arch).sort() };
}

async function frontKeys(store: PgRunStore, runId: number, trials: TrialRecord[]): Promise<string[]> {
  const ids = new Set(await store.getFrontIds(runId));
  return trials.filter((t) => ids.has(t.id)).map((t) => t.key).sort();
}

async function queueJobs(url: string, runId: number): Promise<{ seq: number; retry_count: number; state: string }[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  const r = await c.query(`SELECT split_part(singleton_key, ':', 2)::int AS seq, retry_count, state::text AS state FROM ${QUEUE_SCHEMA}.job WHERE name = $1`, [`greennas-run-${runId}`]);
  await c.end();
  return r.rows as { seq: number; retry_count: number; state: string }[];
}

describe.skipIf(!testPgUrl)('search --distributed with worker processes (PostgreSQL)', () => {
  it('survives a worker SIGKILLed mid-trial: every trial complete exactly once, same front as one machine', async () => {
    const url = await db('gn_dist');
    const trials = 36;
    const coord = start(['search', ...NB, '--trials', String(trials), '--seed', '3', '--db', url, '--distributed', '--queue-depth', '6', '--quiet']);
    const store = await PgRunStore.open(url, { mode: 'existing' }).catch(async () => until('the coordinator to create the database', () => PgRunStore.open(url, { mode: 'existing' }).catch(() => undefined)));
    cleanups.push(() => store.close());
    await until('run 1', () => store.getRun(1));
    const worker = () => start(['worker', '--db', url, '--run', '1', '--eval-delay-ms', '250', '--heartbeat-s', '1', '--verbose']);
    const [victim, w2, w3] = [worker(), worker(), worker()];
    const started = await until('the victim to start a trial', () => /trial (\d+) of run 1: started/.exec(victim.stderr)?.[1]);
    victim.child.kill('SIGKILL');
    expect(await coord.exited).toBe(0);
    expect(await w2.exited).toBe(0); // pinned workers leave once the run is complete
    expect(await w3.exited).toBe(0);
    expect(coord.stderr).toMatch(new RegExp(`sent no heartbeat .*trial ${started} goes back to the queue`));

    const run = await store.getRun(1);
    expect(run?.state).toBe('complete');
    const stored = await store.listTrials(1);
    expect(stored).toHaveLength(trials);
    expect(stored.map((t) => t.seq)).toEqual([...Array(trials).keys()]);
    expect(new Set(stored.map((t) => t.key)).size).toBe(trials);
    expect(stored.every((t) => t.state !== 'running')).toBe(true);
    expect([...stored.map((t) => t.tellSeq)].sort((a, b) => (a as number) - (b as number))).toEqual([...Array(trials).keys()]);
    const victimLabel = `:${victim.child.pid}`;
    const lost = stored.find((t) => t.seq === Number(started));
    expect(lost?.worker).toBeDefined();
    expect(lost?.worker?.endsWith(victimLabel)).toBe(false); // finished by a surviving worker
    const jobs = await queueJobs(url, 1);
    expect(jobs).toHaveLength(trials); // never enqueued twice
    expect(jobs.find((j) => j.seq === Number(started))?.retry_count).toBeGreaterThanOrEqual(1);

    const local = localRun(trials, 3);
    expect(stored.map((t) => t.key).sort()).toEqual(local.keys);
    expect(await frontKeys(store, 1, stored)).toEqual(local.front);
    const workers = JSON.parse(runCli(['workers', '1', '--db', url, '--json', '--all']).stdout) as { pid: number; state: string; devices: string[] }[];
    expect(workers.find((w) => w.pid === victim.child.pid)?.state).toBe('lost');
    expect(workers.filter((w) => w.state === 'stopped')).toHaveLength(2);
    expect(workers[0]?.devices[0]).toMatch(/^cpu: /);
  }, 90_000);

  it('resumes a SIGKILLed coordinator: re-attaches to its queued jobs and counts each trial once', async () => {
    const url = await db('gn_dist');
    const trials = 30;
    const coord = start(['search', ...NB, '--trials', String(trials), '--seed', '5', '--db', url, '--distributed', '--queue-depth', '4', '--quiet']);
    const store = await until('the database', () => PgRunStore.open(url, { mode: 'existing' }).catch(() => undefined));
    cleanups.push(() => store.close());
    await until('a queued trial (the coordinator then holds the run)', async () => (await store.listTrials(1)).length > 0);
    // No worker yet, so the coordinator is surely still running: a second one is refused.
    const second = runCli(['search', '--resume', '1', '--db', url, '--quiet']);
    expect(second.status).toBe(2); // one coordinator per run, or trials would be recorded twice
    expect(second.stderr).toMatch(/run 1 already has a coordinator/);
    const workers = [1, 2].map(() => start(['worker', '--db', url, '--run', '1', '--eval-delay-ms', '150', '--heartbeat-s', '1']));
    await until('10 finished trials', async () => (await store.listTrials(1)).filter((t) => t.state !== 'running').length >= 10);
    coord.child.kill('SIGKILL');
    await coord.exited;
    expect((await store.getRun(1))?.state).toBe('running');
    const resumed = runCli(['search', '--resume', '1', '--db', url, '--quiet', '--json']);
    expect(resumed.stderr).not.toMatch(/internal error/);
    expect(resumed.status).toBe(0);
    const out = JSON.parse(resumed.stdout) as { trials: number; replayed: number };
    expect(out.trials).toBe(trials);
    expect(out.replayed).toBeGreaterThanOrEqual(10);
    for (const w of workers) expect(await w.exited).toBe(0);
    const stored = await store.listTrials(1);
    expect(stored.map((t) => t.seq)).toEqual([...Array(trials).keys()]);
    expect(stored.every((t) => t.state !== 'running')).toBe(true);
    expect(await queueJobs(url, 1)).toHaveLength(trials);
    const local = localRun(trials, 5);
    expect(stored.map((t) => t.key).sort()).toEqual(local.keys);
    expect(await frontKeys(store, 1, stored)).toEqual(local.front);
  }, 90_000);

  it('rejects bad input with exit 2 and a clear message, and loses nothing', async () => {
    const url = await db('gn_dist');
    const u = new URL(url);
    const unreachable = new URL(url);
    unreachable.port = '1';
    for (const args of [['runs'], ['worker'], ['search', ...NB, '--trials', '3', '--distributed']]) {
      const r = runCli([...args, '--db', unreachable.toString()]);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/cannot reach the PostgreSQL server at 127\.0\.0\.1:1 .*Fix:/);
      expect(r.stderr).not.toMatch(/internal error|    at /);
    }
    const wrong = new URL(url);
    wrong.password = 'wrong-secret';
    const bad = runCli(['worker', '--db', wrong.toString()]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(new RegExp(`refused user '${u.username}'.*Fix: check the user name and password`));
    expect(bad.stderr).not.toContain('wrong-secret');

    // A real run to protect: a local (non-distributed) one and one from another greennas version.
    expect(runCli(['search', ...NB, '--trials', '4', '--seed', '1', '--db', url, '--quiet']).status).toBe(0);
    const store = await PgRunStore.open(url, { mode: 'existing' });
    cleanups.push(() => store.close());
    const other = await store.createRun({ space: 'nasbench201', spaceVersion: '1', dataset: 'cifar10', strategy: 'random', seed: 1, budget: 5,
      objectives: ['accuracy'], settings: { distributed: { queueDepth: 2, retryLimit: 3, jobExpiryS: 60 } }, versions: { greennas: '0.0.1-old' }, backend: 'table', host: 'h' });
    const missing = runCli(['worker', '--db', url, '--run', '999']);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/--run 999: no such run in .*Fix:/);
    const version = runCli(['worker', '--db', url, '--run', String(other.id)]);
    expect(version.status).toBe(2);
    expect(version.stderr).toMatch(/started by greennas 0\.0\.1-old but this worker is greennas \d+\.\d+\.\d+.*Fix: install greennas 0\.0\.1-old/);
    const local = runCli(['worker', '--db', url, '--run', '1']);
    expect(local.status).toBe(2);
    expect(local.stderr).toMatch(/not a distributed run/);
    const sqlite = runCli(['search', ...NB, '--trials', '3', '--distributed', '--db', join(mkdtempSync(join(tmpdir(), 'greennas-dist-')), 'x.db')]);
    expect(sqlite.status).toBe(2);
    expect(sqlite.stderr).toMatch(/--distributed needs a database every worker can reach/);
    expect((await store.listRuns()).map((r) => [r.id, r.state])).toEqual([[other.id, 'running'], [1, 'complete']]);
    expect(await store.listTrials(1)).toHaveLength(4);
  }, 60_000);

  const pgScript = join(repoRoot, '.ci', 'postgres.sh');
  it.skipIf(!existsSync(pgScript))('goes on when the database restarts mid-search (coordinator and workers reconnect)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'greennas-pg-'));
    const url = execFileSync(pgScript, ['start', dir], { encoding: 'utf8' }).trim();
    cleanups.push(async () => { execFileSync(pgScript, ['stop', dir]); });
    const trials = 30;
    const coord = start(['search', ...NB, '--trials', String(trials), '--seed', '7', '--db', url, '--distributed', '--queue-depth', '4', '--quiet']);
    const store = await until('the database', () => PgRunStore.open(url, { mode: 'existing' }).catch(() => undefined));
    await until('run 1', () => store.getRun(1));
    const workers = [1, 2].map(() => start(['worker', '--db', url, '--run', '1', '--eval-delay-ms', '150', '--heartbeat-s', '1']));
    await until('8 finished trials', async () => (await store.listTrials(1)).filter((t) => t.state !== 'running').length >= 8);
    execFileSync(pgScript, ['restart', dir]);
    expect(await coord.exited, coord.stderr).toBe(0);
    for (const w of workers) expect(await w.exited, w.stderr).toBe(0);
    const stored = await store.listTrials(1);
    await store.close();
    expect(stored.map((t) => t.seq)).toEqual([...Array(trials).keys()]);
    expect(stored.every((t) => t.state !== 'running')).toBe(true);
    expect(new Set(stored.map((t) => t.key)).size).toBe(trials);
  }, 90_000);
});
