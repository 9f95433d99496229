import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SqliteRunStore, migrations, type NewRun } from '../../src/store/index.js';
import { UserError } from '../../src/core/index.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'greennas-store-'));
const newRun = (over: Partial<NewRun> = {}): NewRun => ({
  space: 'grid', spaceVersion: '1', dataset: 'toy', strategy: 'random', seed: 7, budget: 10,
  objectives: ['accuracy', 'latency.toy'], settings: { trials: 10 }, versions: { greennas: 'test' }, backend: 'table', host: 'h', ...over,
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

  it('round-trips runs, trials with metrics and provenance, and the front', async () => {
    const store = SqliteRunStore.open(join(tmp(), 'a.db'));
    const r1 = await store.createRun(newRun());
    const r2 = await store.createRun(newRun({ seed: 8 }));
    expect((await store.listRuns()).map((r) => r.id)).toEqual([r2.id, r1.id]);
    expect(r1.state).toBe('running');
    const t0 = await store.startTrial(r1.id, { seq: 0, key: 'k0', arch: { a: 1 } });
    const t1 = await store.startTrial(r1.id, { seq: 1, key: 'k1', arch: '|x|' });
    await store.finishTrial(t0.id, {
      state: 'complete', durationMs: 3, tellSeq: 0, backend: 'table',
      metrics: [{ name: 'accuracy', value: 0.9, unit: 'fraction', source: 'table', detail: { column: 'acc' } },
        { name: 'energy.x', value: 2.5, unit: 'mJ', source: 'estimated' }],
    }, { runId: r1.id, trialIds: [t0.id] });
    await store.finishTrial(t1.id, { state: 'failed', durationMs: 1, tellSeq: 1, error: { name: 'TrialError', code: 'E_NO_VALUE', message: 'no value' } });
    const trials = await store.listTrials(r1.id);
    expect(trials.map((t) => [t.seq, t.state, t.tellSeq])).toEqual([[0, 'complete', 0], [1, 'failed', 1]]);
    expect(trials[0]?.arch).toEqual({ a: 1 });
    expect(trials[0]?.metrics).toEqual([
      { name: 'accuracy', value: 0.9, unit: 'fraction', source: 'table', detail: { column: 'acc' } },
      { name: 'energy.x', value: 2.5, unit: 'mJ', source: 'estimated' },
    ]);
    expect(trials[1]?.error?.code).toBe('E_NO_VALUE');
    expect(await store.getFrontIds(r1.id)).toEqual([t0.id]);
    await store.setRunState(r1.id, 'complete');
    expect((await store.getRun(r1.id))?.state).toBe('complete');
    await store.close();
  });

  it('refuses to store a trial outcome twice and an architecture twice in a run', async () => {
    const store = SqliteRunStore.open(':memory:');
    const run = await store.createRun(newRun());
    const t = await store.startTrial(run.id, { seq: 0, key: 'k', arch: 1 });
    await store.finishTrial(t.id, { state: 'failed', durationMs: 1, tellSeq: 0, error: { name: 'E', message: 'm' } });
    await expect(store.finishTrial(t.id, { state: 'failed', durationMs: 1, tellSeq: 1, error: { name: 'E', message: 'm' } })).rejects.toThrow(/not running/);
    await expect(store.startTrial(run.id, { seq: 1, key: 'k', arch: 1 })).rejects.toThrow(/UNIQUE/);
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

  it('refuses a database written by a newer schema', () => {
    const path = join(tmp(), 'new.db');
    SqliteRunStore.open(path).close();
    const db = new Database(path);
    db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 'now')").run();
    db.close();
    expect(() => SqliteRunStore.open(path)).toThrow(/newer greennas/);
  });
});
