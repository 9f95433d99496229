import pg from 'pg';
import { GreennasError, UserError, type MetricValue, type ModelArtifact } from '../core/index.js';
import { migrations } from './migrations.js';
import type { NewRun, NewTrial, RunRecord, RunState, RunStore, TrialRecord, TrialResult, WorkerBeat, WorkerRecord } from './run-store.js';
import { newTrialColumns, toModel, toRun, toTrial, toTrials, toWorker, type MetricRow, type ModelRow, type RunRow, type TrialRow, type WorkerRow } from './rows.js';
import type { OpenMode } from './sqlite-run-store.js';

/** PostgreSQL schema that holds greennas's tables, so they never collide with other tables in a shared database. */
export const PG_SCHEMA = 'greennas';

/** Whether a --db value names a PostgreSQL database rather than an SQLite file. */
export function isPostgresUrl(db: string): boolean {
  return /^postgres(ql)?:\/\//i.test(db);
}

/** The URL with its password masked, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/:[^:@/]*@/, ':***@');
  }
}

const TRANSIENT_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN',
  '57P01', '57P02', '57P03', '08000', '08001', '08003', '08004', '08006', '53300',
]);

/** Whether an error means the connection was lost or refused (the server restarting), so retrying may succeed. */
export function isTransientPgError(err: unknown): boolean {
  const e = err as { code?: string; message?: string } | undefined;
  if (!e) return false;
  if (e.code && TRANSIENT_CODES.has(e.code)) return true;
  return /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|the database system is (starting up|shutting down)/i.test(e.message ?? '');
}

/** Turns a failure to connect into a UserError that says what, why and the fix (never showing the password). */
export function describeConnectError(err: unknown, url: string, flag: string): UserError {
  const e = err as { code?: string; message?: string };
  const shown = redactUrl(url);
  let where = shown;
  let user = '?';
  let database = '?';
  try {
    const u = new URL(url);
    where = `${u.hostname}:${u.port || '5432'}`;
    user = decodeURIComponent(u.username) || '(default)';
    database = decodeURIComponent(u.pathname.replace(/^\//, '')) || user;
  } catch {
    // keep the defaults: the URL is malformed and the message says so below
  }
  const msg = e?.message ?? String(err);
  if (e?.code === '28P01' || e?.code === '28000' || /password authentication failed|no pg_hba.conf entry/i.test(msg)) {
    return new UserError(`${flag} ${shown}: the server refused user '${user}' (${msg}). Fix: check the user name and password in the URL.`, { subject: flag, cause: err });
  }
  if (e?.code === '3D000') {
    return new UserError(`${flag} ${shown}: database '${database}' does not exist on the server. Fix: create it (createdb ${database}) or name an existing one.`, { subject: flag, cause: err });
  }
  if (e?.code === '42501') {
    return new UserError(`${flag} ${shown}: user '${user}' may not create greennas's tables (${msg}). Fix: grant it CREATE on the database, or use its owner.`, { subject: flag, cause: err });
  }
  if (isTransientPgError(err) || e?.code === 'ENOTFOUND') {
    return new UserError(`${flag} ${shown}: cannot reach the PostgreSQL server at ${where} (${e?.code ?? msg}). Fix: check the host and port, and that the server is running and accepts TCP connections from this machine.`, { subject: flag, cause: err });
  }
  return new UserError(`${flag} ${shown}: cannot open the run database (${msg}). Fix: check the URL (postgres://user:password@host:port/database).`, { subject: flag, cause: err });
}

/** Options of PgRunStore.open. */
export interface PgOpenOptions {
  /** `create` makes the schema when missing; `existing` requires a greennas database. */
  mode?: OpenMode;
  /** Flag named in error messages. */
  flag?: string;
  /** How long queries keep retrying while the server is unreachable (restart) before giving up. */
  reconnectTimeoutMs?: number;
  /** Told about lost connections and reconnects. */
  onWarning?(message: string): void;
  /** Connections in the pool. */
  poolSize?: number;
}

type Client = pg.PoolClient;

/**
 * The run store on a PostgreSQL database, for many machines sharing one search. Same schema and
 * migrations as SQLite (in schema `greennas`); queries retry across a server restart.
 */
export class PgRunStore implements RunStore {
  /** The URL with its password masked. */
  readonly path: string;
  /** The connection string (workers and the queue connect with it too). */
  readonly url: string;
  private readonly pool: pg.Pool;
  private readonly reconnectTimeoutMs: number;
  private readonly onWarning: (message: string) => void;
  private closed = false;

  private constructor(url: string, pool: pg.Pool, options: PgOpenOptions) {
    this.url = url;
    this.path = redactUrl(url);
    this.pool = pool;
    this.reconnectTimeoutMs = options.reconnectTimeoutMs ?? 120_000;
    this.onWarning = options.onWarning ?? (() => {});
  }

  /** Connects, checks and migrates. Unreachable servers, bad credentials and foreign databases are UserErrors naming `flag`. */
  static async open(url: string, options: PgOpenOptions = {}): Promise<PgRunStore> {
    const flag = options.flag ?? '--db';
    const mode = options.mode ?? 'create';
    const pool = new pg.Pool({
      connectionString: url, max: options.poolSize ?? 4, connectionTimeoutMillis: 10_000, application_name: 'greennas',
      options: `-c search_path=${PG_SCHEMA}`,
    });
    // An idle connection dropped by a server restart emits here; the next query reconnects.
    pool.on('error', () => {});
    const store = new PgRunStore(url, pool, options);
    let client: Client;
    try {
      client = await pool.connect();
      guard(client);
    } catch (err) {
      await pool.end().catch(() => {});
      throw describeConnectError(err, url, flag);
    }
    try {
      await store.migrate(client, mode, flag);
      client.release();
    } catch (err) {
      client.release(true);
      await pool.end().catch(() => {});
      if (err instanceof GreennasError) throw err;
      throw describeConnectError(err, url, flag);
    }
    return store;
  }

  private async migrate(client: Client, mode: OpenMode, flag: string): Promise<void> {
    const has = async (table: string) =>
      (await client.query('SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = $2', [PG_SCHEMA, table])).rowCount === 1;
    if (mode === 'existing' && !(await has('schema_migrations'))) {
      throw new UserError(`${flag} ${this.path}: no greennas run database there (no '${PG_SCHEMA}' tables). Fix: run 'greennas search --db ${this.path}' first, or pass the --db of an existing run.`, { subject: flag });
    }
    await client.query('BEGIN');
    try {
      // Several workers may start at once against a new database: one migrates, the others wait here.
      await client.query("SELECT pg_advisory_xact_lock(hashtext('greennas.migrate'))");
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${PG_SCHEMA}`);
      if (!(await has('schema_migrations'))) {
        const others = await client.query('SELECT COUNT(*)::int AS n FROM information_schema.tables WHERE table_schema = $1', [PG_SCHEMA]);
        if ((others.rows[0] as { n: number }).n > 0) {
          throw new UserError(`${flag} ${this.path}: schema '${PG_SCHEMA}' holds tables that are not greennas's; they were left untouched. Fix: use another database.`, { subject: flag });
        }
        await client.query('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
      }
      const current = ((await client.query('SELECT MAX(version) AS v FROM schema_migrations')).rows[0] as { v: number | null }).v ?? 0;
      const latest = migrations[migrations.length - 1]?.version ?? 0;
      if (current > latest) {
        throw new UserError(`${flag} ${this.path} was written by a newer greennas (schema ${current}, this one knows ${latest}). Fix: upgrade greennas.`, { subject: flag });
      }
      for (const m of migrations) {
        if (m.version <= current) continue;
        await client.query(m.sql.postgres);
        await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [m.version, m.name, new Date().toISOString()]);
      }
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    }
  }

  /** Highest migration version applied. */
  async schemaVersion(): Promise<number> {
    return this.run(async (c) => ((await c.query('SELECT MAX(version) AS v FROM schema_migrations')).rows[0] as { v: number | null }).v ?? 0);
  }

  /**
   * Runs `fn` on a pooled connection (in a transaction when `tx`), retrying while the server is
   * unreachable. `attempt` > 0 tells `fn` that an earlier try may have committed before the
   * connection dropped, so it can recognise its own write instead of failing on it.
   */
  private async run<T>(fn: (c: Client, attempt: number) => Promise<T>, tx = false): Promise<T> {
    if (this.closed) throw new GreennasError('the run store is closed', 'E_STORE');
    const deadline = Date.now() + this.reconnectTimeoutMs;
    for (let attempt = 0; ; attempt++) {
      let client: Client | undefined;
      try {
        client = await this.pool.connect();
        guard(client);
        if (tx) await client.query('BEGIN');
        const out = await fn(client, attempt);
        if (tx) await client.query('COMMIT');
        client.release();
        if (attempt > 0) this.onWarning(`database ${this.path} is reachable again`);
        return out;
      } catch (err) {
        const transient = isTransientPgError(err);
        if (client) {
          if (tx && !transient) await client.query('ROLLBACK').catch(() => {});
          client.release(transient ? true : undefined);
        }
        if (!transient || Date.now() > deadline || this.closed) throw err;
        if (attempt === 0) this.onWarning(`lost the database ${this.path} (${(err as Error).message}); retrying for up to ${Math.round(this.reconnectTimeoutMs / 1000)} s`);
        await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** attempt)));
      }
    }
  }

  async createRun(run: NewRun): Promise<RunRecord> {
    const now = new Date().toISOString();
    const row = await this.run(async (c) => (await c.query(
      `INSERT INTO runs (created_at, updated_at, state, space, space_version, dataset, strategy, seed, budget, objectives, settings, versions, backend, host)
       VALUES ($1, $2, 'running', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING *`,
      [now, now, run.space, run.spaceVersion, run.dataset, run.strategy, run.seed, run.budget,
        JSON.stringify(run.objectives), JSON.stringify(run.settings), JSON.stringify(run.versions), run.backend, run.host],
    )).rows[0] as RunRow);
    return toRun(row);
  }

  async getRun(runId: number): Promise<RunRecord | undefined> {
    const rows = await this.run(async (c) => (await c.query('SELECT * FROM runs WHERE id = $1', [runId])).rows as RunRow[]);
    return rows[0] && toRun(rows[0]);
  }

  async listRuns(): Promise<RunRecord[]> {
    return (await this.run(async (c) => (await c.query('SELECT * FROM runs ORDER BY id DESC')).rows as RunRow[])).map(toRun);
  }

  async setRunState(runId: number, state: RunState, reason?: string): Promise<void> {
    const n = await this.run(async (c) => (await c.query('UPDATE runs SET state = $1, reason = $2, updated_at = $3 WHERE id = $4',
      [state, reason ?? null, new Date().toISOString(), runId])).rowCount);
    if (n !== 1) throw new GreennasError(`run ${runId} does not exist`, 'E_STORE');
  }

  async startTrial(runId: number, trial: NewTrial): Promise<TrialRecord> {
    const startedAt = trial.startedAt ?? new Date().toISOString();
    const archJson = JSON.stringify(trial.arch);
    const { kind, parent, steps } = newTrialColumns(trial);
    const autoSeq = trial.seq === undefined;
    const row = await this.run(async (c, attempt) => {
      const own = async () => (await c.query('SELECT id, seq FROM trials WHERE run_id = $1 AND arch_key = $2 AND started_at = $3',
        [runId, trial.key, startedAt])).rows[0] as { id: number; seq: number } | undefined;
      for (let tries = 0; ; tries++) {
        try {
          // Without a seq, the next free negative position; two writers may pick the same one, and the loser retries.
          return (await c.query(
            `INSERT INTO trials (run_id, seq, arch_key, arch, state, started_at, kind, parent_trial_id, steps)
             VALUES ($1, COALESCE($2::int, (SELECT LEAST(0, COALESCE(MIN(seq), 0)) - 1 FROM trials WHERE run_id = $1)), $3, $4, 'running', $5, $6, $7, $8)
             RETURNING id, seq`,
            [runId, trial.seq ?? null, trial.key, archJson, startedAt, kind, parent, steps])).rows[0] as { id: number; seq: number };
        } catch (err) {
          if ((err as { code?: string }).code === '23505') {
            // A retry after a lost acknowledgement finds its own row; anything else is a real duplicate.
            const mine = attempt > 0 ? await own() : undefined;
            if (mine) return mine;
            if (autoSeq && tries < 5 && /seq/.test((err as { constraint?: string }).constraint ?? '')) continue;
            throw new GreennasError(`UNIQUE constraint failed: run ${runId} already has trial ${trial.seq ?? '(auto)'} or architecture '${trial.key}' (${(err as Error).message})`, 'E_STORE');
          }
          throw err;
        }
      }
    });
    return {
      id: row.id, runId, seq: row.seq, tellSeq: null, key: trial.key, arch: JSON.parse(archJson), state: 'running', metrics: [], startedAt, kind,
      ...(parent !== null ? { parentTrialId: parent } : {}), ...(steps !== null ? { steps: JSON.parse(steps) as TrialRecord['steps'] } : {}),
    };
  }

  async saveModel(trialId: number, artifact: ModelArtifact): Promise<void> {
    const bytes = Buffer.from(artifact.weightData.buffer, artifact.weightData.byteOffset, artifact.weightData.byteLength);
    await this.run(async (c) => {
      try {
        await c.query(
          `INSERT INTO trial_models (trial_id, format, topology, weight_specs, weight_data, created_at) VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (trial_id) DO UPDATE SET format = excluded.format, topology = excluded.topology, weight_specs = excluded.weight_specs,
             weight_data = excluded.weight_data, created_at = excluded.created_at`,
          [trialId, artifact.format, JSON.stringify(artifact.topology), JSON.stringify(artifact.weightSpecs), bytes, new Date().toISOString()],
        );
      } catch (err) {
        if ((err as { code?: string }).code === '23503') throw new GreennasError(`trial ${trialId} does not exist; its model was not stored`, 'E_STORE', { cause: err });
        throw err;
      }
    });
  }

  async getModel(trialId: number): Promise<ModelArtifact | undefined> {
    const rows = await this.run(async (c) => (await c.query('SELECT * FROM trial_models WHERE trial_id = $1', [trialId])).rows as ModelRow[]);
    return rows[0] && toModel(rows[0]);
  }

  async setMetrics(trialId: number, metrics: readonly MetricValue[]): Promise<void> {
    await this.run(async (c) => {
      const row = (await c.query('SELECT state FROM trials WHERE id = $1 FOR UPDATE', [trialId])).rows[0] as { state: string } | undefined;
      if (row?.state !== 'complete') throw new GreennasError(`trial ${trialId} is ${row ? row.state : 'not in this store'}; metrics are added to complete trials only`, 'E_STORE');
      for (const m of metrics) {
        await c.query(`INSERT INTO metrics (trial_id, name, value, unit, source, detail) VALUES ($1, $2, $3, $4, $5, $6)
          ON CONFLICT (trial_id, name) DO UPDATE SET value = excluded.value, unit = excluded.unit, source = excluded.source, detail = excluded.detail`,
        [trialId, m.name, m.value, m.unit, m.source, m.detail ? JSON.stringify(m.detail) : null]);
      }
    }, true);
  }

  async finishTrial(trialId: number, result: TrialResult, front?: { runId: number; trialIds: number[] }): Promise<void> {
    await this.run(async (c, attempt) => {
      const now = new Date().toISOString();
      const upd = await c.query(
        "UPDATE trials SET state = $1, error = $2, finished_at = $3, duration_ms = $4, tell_seq = $5, backend = $6, worker = $7 WHERE id = $8 AND state = 'running'",
        [result.state, result.error ? JSON.stringify(result.error) : null, now, result.durationMs, result.tellSeq, result.backend ?? null, result.worker ?? null, trialId],
      );
      if (upd.rowCount !== 1) {
        if (attempt > 0) {
          const row = (await c.query('SELECT state, tell_seq FROM trials WHERE id = $1', [trialId])).rows[0] as { state: string; tell_seq: number | null } | undefined;
          if (row && row.state === result.state && row.tell_seq === result.tellSeq) return; // our earlier try committed
        }
        throw new GreennasError(`trial ${trialId} is not running; its outcome was not stored twice`, 'E_STORE');
      }
      if (result.state === 'complete') {
        for (const m of result.metrics ?? []) {
          await c.query('INSERT INTO metrics (trial_id, name, value, unit, source, detail) VALUES ($1, $2, $3, $4, $5, $6)',
            [trialId, m.name, m.value, m.unit, m.source, m.detail ? JSON.stringify(m.detail) : null]);
        }
      }
      if (front) await writeFront(c, front.runId, front.trialIds);
      await c.query('UPDATE runs SET updated_at = $1 WHERE id = (SELECT run_id FROM trials WHERE id = $2)', [now, trialId]);
    }, true);
  }

  async getTrial(trialId: number): Promise<TrialRecord | undefined> {
    return this.run(async (c) => {
      const row = (await c.query('SELECT * FROM trials WHERE id = $1', [trialId])).rows[0] as TrialRow | undefined;
      if (!row) return undefined;
      const metrics = (await c.query('SELECT * FROM metrics WHERE trial_id = $1 ORDER BY ord', [trialId])).rows as MetricRow[];
      return toTrial(row, metrics);
    });
  }

  async listTrials(runId: number): Promise<TrialRecord[]> {
    return this.run(async (c) => {
      const rows = (await c.query('SELECT * FROM trials WHERE run_id = $1 ORDER BY seq', [runId])).rows as TrialRow[];
      const metricRows = (await c.query('SELECT m.* FROM metrics m JOIN trials t ON t.id = m.trial_id WHERE t.run_id = $1 ORDER BY m.ord', [runId])).rows as MetricRow[];
      return toTrials(rows, metricRows);
    });
  }

  async getFrontIds(runId: number): Promise<number[]> {
    return this.run(async (c) => ((await c.query('SELECT trial_id FROM front WHERE run_id = $1 ORDER BY trial_id', [runId])).rows as { trial_id: number }[]).map((r) => r.trial_id));
  }

  async setFront(runId: number, trialIds: number[]): Promise<void> {
    await this.run((c) => writeFront(c, runId, trialIds), true);
  }

  async saveWorker(beat: WorkerBeat): Promise<void> {
    await this.run((c) => c.query(
      `INSERT INTO workers (id, run_id, host, pid, devices, slots, version, state, current, started_at, heartbeat_at, heartbeat_s)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, now(), $11)
       ON CONFLICT (id) DO UPDATE SET state = excluded.state, current = excluded.current, heartbeat_at = now()`,
      [beat.id, beat.runId, beat.host, beat.pid, JSON.stringify(beat.devices), beat.slots, beat.version, beat.state,
        JSON.stringify(beat.current), beat.startedAt, beat.heartbeatS],
    ));
  }

  async listWorkers(): Promise<WorkerRecord[]> {
    const rows = await this.run(async (c) => (await c.query(
      'SELECT *, EXTRACT(EPOCH FROM now() - heartbeat_at)::float8 AS age_s FROM workers ORDER BY heartbeat_at DESC',
    )).rows as WorkerRow[]);
    return rows.map(toWorker);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}

const guarded = new WeakSet<Client>();

/**
 * A checked-out client whose server goes away emits 'error' besides failing its query; without a
 * listener that event would crash the process, and the failed query already reports it.
 */
function guard(client: Client): void {
  if (guarded.has(client)) return;
  guarded.add(client);
  client.on('error', () => {});
}

async function writeFront(c: Client, runId: number, trialIds: number[]): Promise<void> {
  // Lock the run first: two fronts written at once would otherwise each miss the other's new rows
  // (READ COMMITTED) and collide on the primary key.
  await c.query('SELECT 1 FROM runs WHERE id = $1 FOR UPDATE', [runId]);
  await c.query('DELETE FROM front WHERE run_id = $1', [runId]);
  if (trialIds.length > 0) await c.query('INSERT INTO front (run_id, trial_id) SELECT $1, unnest($2::int[])', [runId, trialIds]);
}
