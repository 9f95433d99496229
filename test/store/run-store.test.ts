import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { SqliteRunStore, PgRunStore, openRunStore, migrations, PG_SCHEMA, type NewRun, type RunStore } from '../../src/store/index.js';
import { UserError } from '../../src/core/index.js';
import { freshPgDatabase, testPgUrl } from '../helpers/postgres.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'greennas-store-'));
const newRun = (over: Partial<NewRun> = {}): NewRun => ({
  space: 'grid', spaceVersion: '1', dataset: 'toy', strategy: 'random', seed: 7, budget: 10,
  objectives: ['accuracy', 'latency.toy'], settings: { trials: 10 }, versions: { greennas: 'test' }, backend: 'table', host: 'h', ...over,
});

/** One backend of the contract suite: opens a fresh, empty store and can write a future schema version into it. */
interface Backend {
  name: string;
  fresh(): Promise<{ store: RunStore; db: string }>;
  markFutureSchema(db: string): Promise<void>;
}

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups) await c();
});

const sqliteBackend: Backend = {
  name: 'sqlite',
  fresh: async () => {
    const db = join(tmp(), 'runs.db');
    return { store: await openRunStore(db), db };
  },
  markFutureSchema: async (db) => {
    const d = new Database(db);
    d.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 'now')").run();
    d.close();
  },
};

const pgBackend: Backend = {
  name: 'postgres',
  fresh: async () => {
    const { url, drop } = await freshPgDatabase('gn_store');
    cleanups.push(drop);
    return { store: await openRunStore(url), db: url };
  },
  markFutureSchema: async (db) => {
    const c = new pg.Client({ connectionString: db });
    await c.connect();
    await c.query(`INSERT INTO ${PG_SCHEMA}.schema_migrations (version, name, applied_at) VALUES (999, 'future', 'now')`);
    await c.end();
  },
};

// One suite, two backends: PostgreSQL runs when GREENNAS_TEST_PG_URL names a server (.ci/run starts one).
const backends = testPgUrl ? [sqliteBackend, pgBackend] : [sqliteBackend];
if (!testPgUrl) console.warn('GREENNAS_TEST_PG_URL is not set: the run-store contract suite runs on SQLite only');

describe.each(backends)('RunStore contract ($name)', (backend) => {
  it('round-trips runs, trials with metrics and provenance, and the front', async () => {
    const { store } = await backend.fresh();
    const r1 = await store.createRun(newRun());
    const r2 = await store.createRun(newRun({ seed: 8 }));
    expect((await store.listRuns()).map((r) => r.id)).toEqual([r2.id, r1.id]);
    expect(r1.state).toBe('running');
    expect(r1.settings).toEqual({ trials: 10 });
    const t0 = await store.startTrial(r1.id, { seq: 0, key: 'k0', arch: { a: 1 } });
    const t1 = await store.startTrial(r1.id, { seq: 1, key: 'k1', arch: '|x|' });
    await store.finishTrial(t0.id, {
      state: 'complete', durationMs: 3.5, tellSeq: 0, backend: 'table', worker: 'host-a:12',
      metrics: [{ name: 'accuracy', value: 0.9, unit: 'fraction', source: 'table', detail: { column: 'acc' } },
        { name: 'energy.x', value: 2.5, unit: 'mJ', source: 'estimated' }],
    }, { runId: r1.id, trialIds: [t0.id] });
    await store.finishTrial(t1.id, { state: 'failed', durationMs: 1, tellSeq: 1, error: { name: 'TrialError', code: 'E_NO_VALUE', message: 'no value' } });
    const trials = await store.listTrials(r1.id);
    expect(trials.map((t) => [t.seq, t.state, t.tellSeq])).toEqual([[0, 'complete', 0], [1, 'failed', 1]]);
    expect(trials[0]?.arch).toEqual({ a: 1 });
    expect(trials[0]?.durationMs).toBe(3.5);
    expect(trials[0]?.worker).toBe('host-a:12');
    expect(trials[0]?.metrics).toEqual([
      { name: 'accuracy', value: 0.9, unit: 'fraction', source: 'table', detail: { column: 'acc' } },
      { name: 'energy.x', value: 2.5, unit: 'mJ', source: 'estimated' },
    ]);
    expect(await store.getTrial(t0.id)).toEqual(trials[0]);
    expect(trials[1]?.error?.code).toBe('E_NO_VALUE');
    expect(await store.getFrontIds(r1.id)).toEqual([t0.id]);
    await store.setFront(r1.id, [t1.id, t0.id]);
    expect(await store.getFrontIds(r1.id)).toEqual([t0.id, t1.id].sort((a, b) => a - b));
    await store.setRunState(r1.id, 'complete');
    expect((await store.getRun(r1.id))?.state).toBe('complete');
    expect(await store.getRun(9999)).toBeUndefined();
    await expect(store.setRunState(9999, 'failed')).rejects.toThrow(/does not exist/);
    await store.close();
  });

  it('refuses to store a trial outcome twice and an architecture twice in a run', async () => {
    const { store } = await backend.fresh();
    const run = await store.createRun(newRun());
    const t = await store.startTrial(run.id, { seq: 0, key: 'k', arch: 1 });
    await store.finishTrial(t.id, { state: 'failed', durationMs: 1, tellSeq: 0, error: { name: 'E', message: 'm' } });
    await expect(store.finishTrial(t.id, { state: 'failed', durationMs: 1, tellSeq: 1, error: { name: 'E', message: 'm' } })).rejects.toThrow(/not running/);
    await expect(store.startTrial(run.id, { seq: 1, key: 'k', arch: 1 })).rejects.toThrow(/UNIQUE/);
    await expect(store.startTrial(run.id, { seq: 0, key: 'k2', arch: 1 })).rejects.toThrow(/UNIQUE/);
    await store.close();
  });

  it('stores trial kinds with parent and steps, and auto-places non-search trials below the search positions', async () => {
    const { store } = await backend.fresh();
    const run = await store.createRun(newRun());
    const search = await store.startTrial(run.id, { seq: 0, key: 'k0', arch: { w: 8 } });
    expect(search.kind).toBe('search');
    const steps = [{ name: 'prune', settings: { sparsity: 0.5 }, detail: { reached: 0.49 } }, { name: 'quantize', settings: { bits: 8 } }];
    const c1 = await store.startTrial(run.id, { key: 'k0#pruned', arch: { w: 8 }, kind: 'compressed', parentTrialId: search.id, steps });
    const c2 = await store.startTrial(run.id, { key: 'k0#int8', arch: { w: 8 }, kind: 'compressed', parentTrialId: search.id, steps: steps.slice(1) });
    const b = await store.startTrial(run.id, { key: 'mobilenetv2', arch: 'mobilenetv2', kind: 'baseline' });
    expect([c1.seq, c2.seq, b.seq]).toEqual([-1, -2, -3]);
    expect(c1).toMatchObject({ kind: 'compressed', parentTrialId: search.id, steps });
    // The search goes on at its own positions, undisturbed.
    await store.startTrial(run.id, { seq: 1, key: 'k1', arch: { w: 16 } });
    const trials = await store.listTrials(run.id);
    expect(trials.map((t) => [t.seq, t.kind])).toEqual([[-3, 'baseline'], [-2, 'compressed'], [-1, 'compressed'], [0, 'search'], [1, 'search']]);
    expect(await store.getTrial(c1.id)).toEqual({ ...c1 });
    expect((await store.getTrial(b.id))?.parentTrialId).toBeUndefined();
    expect((await store.getTrial(b.id))?.steps).toBeUndefined();
    await expect(store.startTrial(run.id, { key: 'k9', arch: 1 })).rejects.toThrow(/needs its seq/);
    await expect(store.startTrial(run.id, { seq: 5, key: 'k5', arch: 1, kind: 'other' as never })).rejects.toThrow();
    await store.close();
  });

  it('stores, replaces and returns trained models byte for byte', async () => {
    const { store } = await backend.fresh();
    const run = await store.createRun(newRun());
    const t = await store.startTrial(run.id, { seq: 0, key: 'k0', arch: 1 });
    const other = await store.startTrial(run.id, { seq: 1, key: 'k1', arch: 2 });
    expect(await store.getModel(t.id)).toBeUndefined();
    const bytes = new Uint8Array(1000).map((_, i) => (i * 37) % 256);
    const artifact = {
      format: 'tfjs-layers' as const,
      topology: { class_name: 'Sequential', config: { name: 's', layers: [] } },
      weightSpecs: [{ name: 'dense/kernel', shape: [10, 25], dtype: 'float32' }],
      // A view into a larger buffer: only its own bytes must be stored.
      weightData: new Uint8Array(new Uint8Array([9, 9, ...bytes, 9]).buffer, 2, 1000),
    };
    await store.saveModel(t.id, artifact);
    const back = await store.getModel(t.id);
    expect(back?.format).toBe('tfjs-layers');
    expect(back?.topology).toEqual(artifact.topology);
    expect(back?.weightSpecs).toEqual(artifact.weightSpecs);
    expect(back?.weightData).toBeInstanceOf(Uint8Array);
    expect(Array.from(back?.weightData ?? [])).toEqual(Array.from(bytes));
    await store.saveModel(t.id, { ...artifact, weightData: new Uint8Array([1, 2, 3]) });
    expect(Array.from((await store.getModel(t.id))?.weightData ?? [])).toEqual([1, 2, 3]);
    expect(await store.getModel(other.id)).toBeUndefined();
    await expect(store.saveModel(99999, artifact)).rejects.toThrow(/does not exist/);
    await store.close();
  });

  it('adds metrics to a complete trial, replacing same-named ones and keeping the rest', async () => {
    const { store } = await backend.fresh();
    const run = await store.createRun(newRun());
    const t = await store.startTrial(run.id, { seq: 0, key: 'k0', arch: 1 });
    await expect(store.setMetrics(t.id, [{ name: 'x', value: 1, unit: 'ms', source: 'measured' }])).rejects.toThrow(/running; metrics are added to complete trials only/);
    await store.finishTrial(t.id, { state: 'complete', durationMs: 1, tellSeq: 0, metrics: [
      { name: 'accuracy', value: 0.5, unit: 'fraction', source: 'measured' }, { name: 'energy.infer.compare', value: 2, unit: 'J', source: 'estimated' },
    ] });
    await store.setMetrics(t.id, [
      { name: 'energy.infer.compare', value: 3, unit: 'J', source: 'estimated', detail: { rounds: 3 } }, { name: 'latency.cpu.compare', value: 0.1, unit: 'ms', source: 'measured' },
    ]);
    const back = await store.getTrial(t.id);
    expect(back?.state).toBe('complete');
    expect(back?.metrics).toEqual([
      { name: 'accuracy', value: 0.5, unit: 'fraction', source: 'measured' },
      { name: 'energy.infer.compare', value: 3, unit: 'J', source: 'estimated', detail: { rounds: 3 } },
      { name: 'latency.cpu.compare', value: 0.1, unit: 'ms', source: 'measured' },
    ]);
    await expect(store.setMetrics(99999, [])).rejects.toThrow(/not in this store/);
    await store.close();
  });

  it('keeps worker heartbeats, aged by the store clock', async () => {
    const { store } = await backend.fresh();
    const beat = { id: 'h:1:ab', runId: 3, host: 'h', pid: 1, devices: ['cpu: x'], slots: 2, version: '0.1.0', state: 'running' as const,
      current: [{ runId: 3, seq: 4, jobId: 'j', attempt: 0 }], startedAt: new Date().toISOString(), heartbeatS: 5 };
    await store.saveWorker(beat);
    await store.saveWorker({ ...beat, current: [] });
    await store.saveWorker({ ...beat, id: 'h:2:cd', runId: null, pid: 2 });
    const workers = await store.listWorkers();
    expect(workers.map((w) => w.id).sort()).toEqual(['h:1:ab', 'h:2:cd']);
    const w1 = workers.find((w) => w.id === 'h:1:ab');
    expect(w1).toMatchObject({ runId: 3, host: 'h', devices: ['cpu: x'], slots: 2, current: [], heartbeatS: 5 });
    expect(w1?.heartbeatAgeS).toBeGreaterThanOrEqual(0);
    expect(w1?.heartbeatAgeS).toBeLessThan(30);
    expect(workers.find((w) => w.id === 'h:2:cd')?.runId).toBeNull();
    await store.close();
  });

  it('applies every numbered migration and refuses a database written by a newer schema', async () => {
    const { store, db } = await backend.fresh();
    await store.close();
    await backend.markFutureSchema(db);
    await expect(openRunStore(db)).rejects.toThrow(/newer greennas/);
  });
});

describe('SqliteRunStore', () => {
  it('creates the schema through numbered migrations and uses WAL', () => {
    const path = join(tmp(), 'sub', 'runs.db');
    const store = SqliteRunStore.open(path);
    expect(store.schemaVersion()).toBe(migrations[migrations.length - 1]?.version);
    const db = new Database(path, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    const applied = db.prepare('SELECT version FROM schema_migrations ORDER BY version').all() as { version: number }[];
    expect(applied.map((r) => r.version)).toEqual(migrations.map((m) => m.version));
    db.close();
  });

  it('rejects bad --db paths with a UserError and leaves foreign files untouched', () => {
    const dir = tmp();
    expect(() => SqliteRunStore.open(join(dir, 'missing.db'), { mode: 'existing' })).toThrow(UserError);
    expect(() => SqliteRunStore.open(dir)).toThrow(/is a folder/);
    const text = join(dir, 'notes.txt');
    writeFileSync(text, 'hello, not a database\n');
    expect(() => SqliteRunStore.open(text)).toThrow(/not a greennas run database/);
    expect(readFileSync(text, 'utf8')).toBe('hello, not a database\n');
    const foreign = join(dir, 'foreign.db');
    const db = new Database(foreign);
    db.exec('CREATE TABLE users (id INTEGER)');
    db.close();
    expect(() => SqliteRunStore.open(foreign)).toThrow(/not a greennas one/);
    const check = new Database(foreign, { readonly: true });
    expect(check.prepare("SELECT name FROM sqlite_master WHERE type='table'").all()).toEqual([{ name: 'users' }]);
    check.close();
  });
});

describe.skipIf(!testPgUrl)('PgRunStore', () => {
  it('creates its tables in their own schema through the same numbered migrations', async () => {
    const { url, drop } = await freshPgDatabase('gn_store');
    cleanups.push(drop);
    const store = await PgRunStore.open(url);
    expect(await store.schemaVersion()).toBe(migrations[migrations.length - 1]?.version);
    expect(store.path).not.toContain(':greennas@');
    await store.close();
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    const applied = await c.query(`SELECT version FROM ${PG_SCHEMA}.schema_migrations ORDER BY version`);
    expect(applied.rows.map((r: { version: number }) => r.version)).toEqual(migrations.map((m) => m.version));
    await c.end();
  });

  it('turns an unreachable server, wrong credentials, a missing database and a non-greennas one into UserErrors', async () => {
    const u = new URL(testPgUrl as string);
    const bad = (edit: (x: URL) => void) => { const x = new URL(u.toString()); edit(x); return x.toString(); };
    const refused = bad((x) => { x.port = '1'; });
    await expect(openRunStore(refused, { mode: 'existing' })).rejects.toThrow(UserError);
    await expect(openRunStore(refused)).rejects.toThrow(/cannot reach the PostgreSQL server at 127.0.0.1:1/);
    const wrongPassword = bad((x) => { x.password = 'not-the-password'; });
    const err = await openRunStore(wrongPassword).catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(UserError);
    expect(err.message).toMatch(/refused user .*Fix: check the user name and password/);
    expect(err.message).not.toContain('not-the-password');
    await expect(openRunStore(bad((x) => { x.pathname = '/no_such_db_here'; }))).rejects.toThrow(/database 'no_such_db_here' does not exist/);
    const { url, drop } = await freshPgDatabase('gn_store');
    cleanups.push(drop);
    await expect(openRunStore(url, { mode: 'existing' })).rejects.toThrow(/no greennas run database there/);
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    expect((await c.query(`SELECT 1 FROM information_schema.schemata WHERE schema_name = '${PG_SCHEMA}'`)).rowCount).toBe(0);
    await c.query(`CREATE SCHEMA ${PG_SCHEMA}; CREATE TABLE ${PG_SCHEMA}.users (id int)`);
    await expect(openRunStore(url)).rejects.toThrow(/not greennas's; they were left untouched/);
    expect((await c.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = '${PG_SCHEMA}'`)).rows).toEqual([{ table_name: 'users' }]);
    await c.end();
  });

  it('lets several processes open a new database at once (one migrates, the rest wait)', async () => {
    const { url, drop } = await freshPgDatabase('gn_store');
    cleanups.push(drop);
    const stores = await Promise.all([1, 2, 3, 4].map(() => PgRunStore.open(url)));
    for (const s of stores) expect(await s.schemaVersion()).toBe(migrations[migrations.length - 1]?.version);
    await Promise.all(stores.map((s) => s.close()));
  });
});
