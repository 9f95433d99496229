import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { runCli, startCli } from '../helpers/run-cli.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'greennas-cli-'));
const NB = ['--space', 'nasbench201', '--dataset', 'cifar10', '--objectives', 'accuracy,latency.edgegpu,energy.edgegpu'];

function json<T>(text: string): T {
  return JSON.parse(text) as T;
}

interface TrialJson { id: number; seq: number; arch: string; state: string; metrics: Record<string, number> }

describe('greennas search on nasbench201', () => {
  it('runs 100 distinct trials with evolution and lists them with trials/front/runs --json', () => {
    const db = join(tmp(), 'r.db');
    const r = runCli(['search', ...NB, '--strategy', 'evolution', '--trials', '100', '--seed', '1', '--db', db, '--json']);
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.status).toBe(0);
    const out = json<{ runId: number; trials: number }>(r.stdout);
    expect(out.trials).toBe(100);
    const trials = json<TrialJson[]>(runCli(['trials', String(out.runId), '--db', db, '--json']).stdout);
    expect(trials).toHaveLength(100);
    expect(new Set(trials.map((t) => t.arch)).size).toBe(100);
    expect(trials.map((t) => t.seq)).toEqual([...Array(100).keys()]);
    for (const t of trials) {
      expect(t.arch).toMatch(/^\|[a-z_0-9]+~0\|\+\|[a-z_0-9]+~0\|[a-z_0-9]+~1\|\+\|[a-z_0-9]+~0\|[a-z_0-9]+~1\|[a-z_0-9]+~2\|$/);
      if (t.state === 'complete') {
        expect(t.metrics.accuracy).toBeGreaterThan(0);
        expect(t.metrics.accuracy).toBeLessThanOrEqual(1);
      }
    }
    const front = json<TrialJson[]>(runCli(['front', String(out.runId), '--db', db, '--json']).stdout);
    expect(front.length).toBeGreaterThan(0);
    for (const f of front) expect(f.state).toBe('complete');
    const runs = json<{ id: number }[]>(runCli(['runs', '--db', db, '--json']).stdout);
    expect(runs.map((x) => x.id)).toEqual([out.runId]);
  });

  it('the same seed gives the same trials; another seed does not', () => {
    const db = join(tmp(), 'r.db');
    const ids = [1, 1, 2].map((seed) => json<{ runId: number }>(runCli(['search', ...NB, '--strategy', 'nsga2', '--trials', '40', '--seed', String(seed), '--db', db, '--json']).stdout).runId);
    const archs = ids.map((id) => json<TrialJson[]>(runCli(['trials', String(id), '--db', db, '--json']).stdout).map((t) => t.arch));
    expect(archs[0]).toEqual(archs[1]);
    expect(archs[0]).not.toEqual(archs[2]);
  });

  it('a search killed with SIGKILL resumes with exactly the trials of an uninterrupted run', async () => {
    const dir = tmp();
    const budget = 1500;
    const args = [...NB, '--strategy', 'evolution', '--trials', String(budget), '--seed', '9', '--quiet'];
    const refDb = join(dir, 'ref.db');
    const ref = runCli(['search', ...args, '--db', refDb, '--json']);
    expect(ref.status).toBe(0);
    const expected = json<TrialJson[]>(runCli(['trials', String(json<{ runId: number }>(ref.stdout).runId), '--db', refDb, '--json']).stdout);

    const db = join(dir, 'crash.db');
    const child = startCli(['search', ...args, '--db', db]);
    // Kill it part-way: once some trials are stored but well before the end.
    let stored = 0;
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
      try {
        const con = new Database(db, { readonly: true, fileMustExist: true });
        stored = (con.prepare("SELECT COUNT(*) AS n FROM trials WHERE state != 'running'").get() as { n: number }).n;
        con.close();
      } catch { /* not created yet */ }
      if (stored >= 50) break;
    }
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const con = new Database(db, { readonly: true });
    const before = (con.prepare("SELECT COUNT(*) AS n FROM trials WHERE state != 'running'").get() as { n: number }).n;
    con.close();
    expect(before).toBeGreaterThanOrEqual(50);
    expect(before).toBeLessThan(budget);

    const resumed = runCli(['search', '--resume', '1', '--db', db, '--json']);
    expect(resumed.stderr).not.toMatch(/internal error/);
    expect(resumed.status).toBe(0);
    expect(json<{ replayed: number }>(resumed.stdout).replayed).toBe(before);
    const got = json<TrialJson[]>(runCli(['trials', '1', '--db', db, '--json']).stdout);
    expect(got.map((t) => [t.arch, t.state, t.metrics])).toEqual(expected.map((t) => [t.arch, t.state, t.metrics]));
    const runs = json<{ id: number; state: string }[]>(runCli(['runs', '--db', db, '--json']).stdout);
    expect(runs).toEqual([expect.objectContaining({ id: 1, state: 'complete' })]);
  });

  it('runs the MnasNet scalar reward', () => {
    const db = join(tmp(), 'r.db');
    const r = runCli(['search', '--space', 'nasbench201', '--objectives', 'accuracy,latency.edgegpu', '--reward', 'mnas', '--latency-target', '5',
      '--strategy', 'evolution', '--trials', '60', '--seed', '3', '--db', db, '--json']);
    expect(r.status).toBe(0);
    const front = json<{ front: TrialJson[] }>(r.stdout).front;
    expect(front.length).toBeGreaterThanOrEqual(1);
  });
});

describe('bad input: exit 2, one message naming the flag, no stack, no stored run changed', () => {
  const dir = tmp();
  const db = join(dir, 'keep.db');
  const setup = runCli(['search', ...NB, '--strategy', 'random', '--trials', '10', '--seed', '1', '--db', db, '--json']);
  const snapshot = () => readFileSync(db);

  it.each([
    [['search', '--space', 'nope', '--db', db], /--space 'nope'.*Fix/],
    [['search', '--space', './missing-space.js', '--db', db], /--space.*missing-space\.js/],
    [['search', ...NB, '--objectives', 'accuracy,speed', '--db', db], /--objectives.*speed/],
    [['search', ...NB, '--strategy', 'magic', '--db', db], /--strategy 'magic'.*random/],
    [['search', ...NB, '--dataset', 'mnist', '--db', db], /--dataset 'mnist'.*cifar10/],
    [['search', ...NB, '--trials', '0', '--db', db], /--trials.*positive/],
    [['search', ...NB, '--trials', '-5', '--db', db], /--trials.*positive/],
    [['search', ...NB, '--trials', 'many', '--db', db], /--trials.*'many'/],
    [['search', ...NB, '--seed', 'x', '--db', db], /--seed/],
    [['search', '--space', 'nasbench201', '--reward', 'mnas', '--objectives', 'accuracy,latency.edgegpu', '--db', db], /--latency-target/],
    [['search', '--resume', '99', '--db', db], /--resume 99.*no such run/],
    [['search', '--resume', '1', '--trials', '5', '--db', db], /--trials cannot be given/],
    [['trials', '42', '--db', db], /RUN_ID 42.*no such run/],
    [['front', 'abc', '--db', db], /RUN_ID.*'abc'/],
    [['runs', '--db', join(dir, 'absent.db')], /--db.*no run database/],
    [['runs', '--db'], /Not enough arguments following: db/],
    [['search', '--no-such-flag', '--db', db], /Unknown argument/],
  ])('%j', (args, pattern) => {
    expect(setup.status).toBe(0);
    const before = snapshot();
    const r = runCli(args as string[]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(pattern as RegExp);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stdout).toBe('');
    expect(snapshot().equals(before)).toBe(true);
  });

  it('a --db that is not a run database is refused and left untouched', () => {
    const notDb = join(dir, 'notes.txt');
    writeFileSync(notDb, 'my notes\n');
    const r = runCli(['search', ...NB, '--trials', '5', '--db', notDb]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--db.*not a greennas run database/);
    expect(readFileSync(notDb, 'utf8')).toBe('my notes\n');
  });

  it('an unreadable --db is refused', () => {
    if (process.getuid?.() === 0) {
      // root reads any file; a folder path stands in for an unreadable database.
      const r = runCli(['runs', '--db', dir]);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/--db.*folder/);
      return;
    }
    const locked = join(dir, 'locked.db');
    writeFileSync(locked, '');
    chmodSync(locked, 0o000);
    const r = runCli(['runs', '--db', locked]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--db/);
  });
});
