import Database from 'better-sqlite3';
import { existsSync, mkdirSync, statSync, openSync, readSync, closeSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { GreennasError, UserError, type MetricValue, type ModelArtifact } from '../core/index.js';
import { migrations, type Migration } from './migrations.js';
import type { NewRun, NewTrial, RunRecord, RunState, RunStore, TrialRecord, TrialResult, WorkerBeat, WorkerRecord } from './run-store.js';
import { newTrialColumns, toModel, toRun, toTrial, toTrials, toWorker, type MetricRow, type ModelRow, type RunRow, type TrialRow, type WorkerRow } from './rows.js';

const SQLITE_MAGIC = 'SQLite format 3\0';

/** How a store file is opened: `create` makes it (and its folder) when missing; `existing` requires it. */
export type OpenMode = 'create' | 'existing';

function checkIsSqliteFile(path: string, flag: string): void {
  const st = statSync(path);
  if (st.isDirectory()) {
    throw new UserError(`${flag} ${path} is a folder, not a database file. Fix: pass a file path such as ${path}/greennas.db.`, { subject: flag });
  }
  if (st.size === 0) return; // an empty file is a valid, new SQLite database
  const buf = Buffer.alloc(16);
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw new UserError(`${flag} ${path} cannot be read (${(err as Error).message}). Fix: check its permissions or pass another --db.`, { subject: flag, cause: err });
  }
  try {
    readSync(fd, buf, 0, 16, 0);
  } finally {
    closeSync(fd);
  }
  if (buf.toString('latin1') !== SQLITE_MAGIC) {
    throw new UserError(`${flag} ${path} is not a greennas run database (not an SQLite file); it was left untouched. Fix: pass the path of a run database, or a new file name.`, { subject: flag });
  }
}

/** The run store on one SQLite file (WAL mode, so readers never block the search). */
export class SqliteRunStore implements RunStore {
  private readonly db: Database.Database;
  /** Absolute path of the database file. */
  readonly path: string;

  private constructor(db: Database.Database, path: string) {
    this.db = db;
    this.path = path;
  }

  /**
   * Opens (and migrates) a store. Bad paths and foreign files become UserErrors naming `flag`;
   * a file that is not a run database is never written to.
   */
  static open(path: string, options: { mode?: OpenMode; flag?: string; readonly?: boolean } = {}): SqliteRunStore {
    const flag = options.flag ?? '--db';
    const mode = options.mode ?? 'create';
    const abs = path === ':memory:' ? path : resolve(path);
    if (abs !== ':memory:') {
      if (existsSync(abs)) {
        checkIsSqliteFile(abs, flag);
      } else if (mode === 'existing') {
        throw new UserError(`${flag} ${path}: no run database there. Fix: run 'greennas search' first, or pass the --db of an existing run.`, { subject: flag });
      } else {
        try {
          mkdirSync(dirname(abs), { recursive: true });
        } catch (err) {
          throw new UserError(`${flag} ${path}: cannot create its folder (${(err as Error).message}). Fix: pass a writable path.`, { subject: flag, cause: err });
        }
      }
    }
    let db: Database.Database;
    try {
      db = new Database(abs, { fileMustExist: mode === 'existing' && abs !== ':memory:', readonly: options.readonly ?? false });
      db.pragma('busy_timeout = 5000');
      if (!options.readonly) db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
    } catch (err) {
      throw new UserError(`${flag} ${path} cannot be opened as a run database (${(err as Error).message}). Fix: check the path and its permissions, or pass another --db.`, { subject: flag, cause: err });
    }
    const store = new SqliteRunStore(db, abs);
    try {
      store.migrate(flag);
    } catch (err) {
      db.close();
      throw err;
    }
    return store;
  }

  /** Highest migration version applied to this file. */
  schemaVersion(): number {
    const row = this.db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number | null };
    return row.v ?? 0;
  }

  private migrate(flag: string): void {
    const hasTable = this.db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'")
      .get();
    if (!hasTable) {
      const tables = this.db.prepare("SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table'").get() as { n: number };
      if (tables.n > 0) {
        throw new UserError(`${flag} ${this.path} is an SQLite database but not a greennas one; it was left untouched. Fix: pass a new file name or a greennas run database.`, { subject: flag });
      }
      if (this.db.readonly) return;
      this.db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
    }
    const current = this.schemaVersion();
    const latest = migrations[migrations.length - 1]?.version ?? 0;
    if (current > latest) {
      throw new UserError(`${flag} ${this.path} was written by a newer greennas (schema ${current}, this one knows ${latest}). Fix: upgrade greennas.`, { subject: flag });
    }
    if (current < latest && this.db.readonly) {
      throw new UserError(`${flag} ${this.path} needs a schema upgrade but was opened read-only. Fix: open it with a command that writes (e.g. greennas search --resume).`, { subject: flag });
    }
    const apply = this.db.transaction((m: Migration) => {
      this.db.exec(m.sql.sqlite);
      this.db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, new Date().toISOString());
    });
    for (const m of migrations) if (m.version > current) apply(m);
  }

  async createRun(run: NewRun): Promise<RunRecord> {
    const now = new Date().toISOString();
    const info = this.db
      .prepare(
        `INSERT INTO runs (created_at, updated_at, state, space, space_version, dataset, strategy, seed, budget,
           objectives, settings, versions, backend, host)
         VALUES (?, ?, 'running', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(now, now, run.space, run.spaceVersion, run.dataset, run.strategy, run.seed, run.budget,
        JSON.stringify(run.objectives), JSON.stringify(run.settings), JSON.stringify(run.versions), run.backend, run.host);
    return (await this.getRun(Number(info.lastInsertRowid))) as RunRecord;
  }

  async getRun(runId: number): Promise<RunRecord | undefined> {
    const row = this.db.prepare('SELECT * FROM runs WHERE id = ?').get(runId) as RunRow | undefined;
    return row && toRun(row);
  }

  async listRuns(): Promise<RunRecord[]> {
    return (this.db.prepare('SELECT * FROM runs ORDER BY id DESC').all() as RunRow[]).map(toRun);
  }

  async setRunState(runId: number, state: RunState, reason?: string): Promise<void> {
    const info = this.db.prepare('UPDATE runs SET state = ?, reason = ?, updated_at = ? WHERE id = ?').run(state, reason ?? null, new Date().toISOString(), runId);
    if (info.changes !== 1) throw new GreennasError(`run ${runId} does not exist`, 'E_STORE');
  }

  async startTrial(runId: number, trial: NewTrial): Promise<TrialRecord> {
    const startedAt = trial.startedAt ?? new Date().toISOString();
    const archJson = JSON.stringify(trial.arch);
    const { kind, parent, steps } = newTrialColumns(trial);
    // Without a seq, the next free negative position, chosen in the same statement (SQLite has one writer).
    const row = this.db
      .prepare(
        `INSERT INTO trials (run_id, seq, arch_key, arch, state, started_at, kind, parent_trial_id, steps)
         VALUES (?, COALESCE(?, (SELECT MIN(0, COALESCE(MIN(seq), 0)) - 1 FROM trials WHERE run_id = ?)), ?, ?, 'running', ?, ?, ?, ?)
         RETURNING id, seq`,
      )
      .get(runId, trial.seq ?? null, runId, trial.key, archJson, startedAt, kind, parent, steps) as { id: number; seq: number };
    return {
      id: row.id, runId, seq: row.seq, tellSeq: null, key: trial.key, arch: JSON.parse(archJson), state: 'running', metrics: [], startedAt, kind,
      ...(parent !== null ? { parentTrialId: parent } : {}), ...(steps !== null ? { steps: JSON.parse(steps) as TrialRecord['steps'] } : {}),
    };
  }

  async saveModel(trialId: number, artifact: ModelArtifact): Promise<void> {
    try {
      this.db
        .prepare(
          `INSERT INTO trial_models (trial_id, format, topology, weight_specs, weight_data, created_at) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (trial_id) DO UPDATE SET format = excluded.format, topology = excluded.topology, weight_specs = excluded.weight_specs,
             weight_data = excluded.weight_data, created_at = excluded.created_at`,
        )
        .run(trialId, artifact.format, JSON.stringify(artifact.topology), JSON.stringify(artifact.weightSpecs),
          Buffer.from(artifact.weightData.buffer, artifact.weightData.byteOffset, artifact.weightData.byteLength), new Date().toISOString());
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_FOREIGNKEY') throw new GreennasError(`trial ${trialId} does not exist; its model was not stored`, 'E_STORE', { cause: err });
      throw err;
    }
  }

  async getModel(trialId: number): Promise<ModelArtifact | undefined> {
    const row = this.db.prepare('SELECT * FROM trial_models WHERE trial_id = ?').get(trialId) as ModelRow | undefined;
    return row && toModel(row);
  }

  private readonly finishTx = (trialId: number, result: TrialResult, front?: { runId: number; trialIds: number[] }): void => {
    this.db.transaction(() => {
      const info = this.db
        .prepare("UPDATE trials SET state = ?, error = ?, finished_at = ?, duration_ms = ?, tell_seq = ?, backend = ?, worker = ? WHERE id = ? AND state = 'running'")
        .run(result.state, result.error ? JSON.stringify(result.error) : null, new Date().toISOString(), result.durationMs,
          result.tellSeq, result.backend ?? null, result.worker ?? null, trialId);
      if (info.changes !== 1) throw new GreennasError(`trial ${trialId} is not running; its outcome was not stored twice`, 'E_STORE');
      if (result.state === 'complete') {
        const ins = this.db.prepare('INSERT INTO metrics (trial_id, name, value, unit, source, detail) VALUES (?, ?, ?, ?, ?, ?)');
        for (const m of result.metrics ?? []) ins.run(trialId, m.name, m.value, m.unit, m.source, m.detail ? JSON.stringify(m.detail) : null);
      }
      if (front) this.writeFront(front.runId, front.trialIds);
      this.db.prepare('UPDATE runs SET updated_at = ? WHERE id = (SELECT run_id FROM trials WHERE id = ?)').run(new Date().toISOString(), trialId);
    })();
  };

  async setMetrics(trialId: number, metrics: readonly MetricValue[]): Promise<void> {
    this.db.transaction(() => {
      const row = this.db.prepare('SELECT state FROM trials WHERE id = ?').get(trialId) as { state: string } | undefined;
      if (row?.state !== 'complete') throw new GreennasError(`trial ${trialId} is ${row ? row.state : 'not in this store'}; metrics are added to complete trials only`, 'E_STORE');
      const up = this.db.prepare(`INSERT INTO metrics (trial_id, name, value, unit, source, detail) VALUES (?, ?, ?, ?, ?, ?)
        ON CONFLICT (trial_id, name) DO UPDATE SET value = excluded.value, unit = excluded.unit, source = excluded.source, detail = excluded.detail`);
      for (const m of metrics) up.run(trialId, m.name, m.value, m.unit, m.source, m.detail ? JSON.stringify(m.detail) : null);
    })();
  }

  async finishTrial(trialId: number, result: TrialResult, front?: { runId: number; trialIds: number[] }): Promise<void> {
    this.finishTx(trialId, result, front);
  }

  async getTrial(trialId: number): Promise<TrialRecord | undefined> {
    const row = this.db.prepare('SELECT * FROM trials WHERE id = ?').get(trialId) as TrialRow | undefined;
    if (!row) return undefined;
    const metrics = this.db.prepare('SELECT * FROM metrics WHERE trial_id = ? ORDER BY rowid').all(trialId) as MetricRow[];
    return toTrial(row, metrics);
  }

  async listTrials(runId: number): Promise<TrialRecord[]> {
    const rows = this.db.prepare('SELECT * FROM trials WHERE run_id = ? ORDER BY seq').all(runId) as TrialRow[];
    const metricRows = this.db
      .prepare('SELECT m.* FROM metrics m JOIN trials t ON t.id = m.trial_id WHERE t.run_id = ? ORDER BY m.rowid')
      .all(runId) as MetricRow[];
    return toTrials(rows, metricRows);
  }

  async getFrontIds(runId: number): Promise<number[]> {
    return (this.db.prepare('SELECT trial_id FROM front WHERE run_id = ? ORDER BY trial_id').all(runId) as { trial_id: number }[]).map((r) => r.trial_id);
  }

  private writeFront(runId: number, trialIds: number[]): void {
    this.db.prepare('DELETE FROM front WHERE run_id = ?').run(runId);
    const ins = this.db.prepare('INSERT INTO front (run_id, trial_id) VALUES (?, ?)');
    for (const id of trialIds) ins.run(runId, id);
  }

  async setFront(runId: number, trialIds: number[]): Promise<void> {
    this.db.transaction(() => this.writeFront(runId, trialIds))();
  }

  async saveWorker(beat: WorkerBeat): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO workers (id, run_id, host, pid, devices, slots, version, state, current, started_at, heartbeat_at, heartbeat_s)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET state = excluded.state, current = excluded.current, heartbeat_at = excluded.heartbeat_at`,
      )
      .run(beat.id, beat.runId, beat.host, beat.pid, JSON.stringify(beat.devices), beat.slots, beat.version, beat.state,
        JSON.stringify(beat.current), beat.startedAt, new Date().toISOString(), beat.heartbeatS);
  }

  async listWorkers(): Promise<WorkerRecord[]> {
    const rows = this.db
      .prepare("SELECT *, (julianday('now') - julianday(heartbeat_at)) * 86400.0 AS age_s FROM workers ORDER BY heartbeat_at DESC")
      .all() as WorkerRow[];
    return rows.map(toWorker);
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

