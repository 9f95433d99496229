import type PgBoss from 'pg-boss';
import pg from 'pg';
import { deserializeError, TrialError, UserError, silentLogger, type Logger, type MetricSpec, type MetricValue } from '../core/index.js';
import type { ArchJson, EvaluationResult, Evaluator, TrialInfo } from '../space/index.js';
import type { RunStore } from '../store/index.js';
import { decodeModel, ensureQueue, jobIdFor, openJobQueue, QUEUE_SCHEMA, type EvaluationJob, type EvaluationOutput } from './job-queue.js';

/** Settings of a distributed run, stored with the run so that --resume rebuilds the same queue. */
export interface DistributedSettings {
  /** Evaluations kept queued or running at once (the study's concurrency; part of what --resume replays). */
  queueDepth: number;
  /** Attempts after the first when a worker is lost mid-trial. */
  retryLimit: number;
  /** A job silent this long is expired and retried (backstop behind heartbeats). */
  jobExpiryS: number;
}

/** Defaults of DistributedSettings. */
export const DEFAULT_DISTRIBUTED: DistributedSettings = { queueDepth: 8, retryLimit: 3, jobExpiryS: 3600 };

/** A worker with no heartbeat for this many of its heartbeat intervals (plus a grace) is considered gone. */
const LOST_AFTER_BEATS = 3;
const LOST_GRACE_S = 2;
/** First key of the advisory lock that makes a process a run's only coordinator (the run id is the second). */
const COORDINATOR_LOCK = 0x67726e;

interface Waiter {
  queue: string;
  seq: number;
  resolve(job: PgBoss.JobWithMetadata<EvaluationJob>): void;
  reject(err: unknown): void;
}

/** Options of QueueEvaluator.open. */
export interface QueueEvaluatorOptions {
  /** The run store (PostgreSQL): read for workers' heartbeats. */
  store: RunStore;
  /** The database URL (the queue lives there too). */
  url: string;
  /** The run this process coordinates (one coordinator per run: a second one is refused). */
  runId: number;
  /** The local evaluator of the same settings: metric specs and backend come from it; it never evaluates. */
  local: Evaluator;
  /** Queue depth, retries, expiry. */
  settings: DistributedSettings;
  /** Progress and warnings. */
  logger?: Logger;
  /** How often finished jobs are looked for. */
  pollMs?: number;
}

/**
 * An Evaluator that hands each evaluation to the job queue and resolves when a worker on any
 * machine completes it. The coordinator stays the only writer of trial outcomes, so a job run
 * twice (a worker lost, the job retried) is still counted once.
 */
export class QueueEvaluator implements Evaluator {
  readonly backend: string;
  readonly concurrency: number;
  private readonly boss: PgBoss;
  private readonly options: QueueEvaluatorOptions;
  private readonly logger: Logger;
  private readonly waiting = new Map<string, Waiter>();
  private readonly queues = new Map<number, Promise<string>>();
  private timer: NodeJS.Timeout | undefined;
  private polling = false;
  private lastMonitor = 0;
  private closed = false;

  private readonly lock: pg.Client;

  private constructor(boss: PgBoss, lock: pg.Client, options: QueueEvaluatorOptions) {
    this.boss = boss;
    this.lock = lock;
    this.options = options;
    this.logger = options.logger ?? silentLogger;
    this.backend = options.local.backend;
    this.concurrency = options.settings.queueDepth;
  }

  /** Claims the run (a session lock, released when this process dies) and connects to the queue. */
  static async open(options: QueueEvaluatorOptions): Promise<QueueEvaluator> {
    const logger = options.logger ?? silentLogger;
    const lock = new pg.Client({ connectionString: options.url, application_name: 'greennas-coordinator' });
    lock.on('error', () => {}); // a lost session only drops the claim; queue and store reconnect on their own
    await lock.connect();
    const claimed = (await lock.query('SELECT pg_try_advisory_lock($1, $2) AS ok', [COORDINATOR_LOCK, options.runId])).rows[0] as { ok: boolean };
    if (!claimed.ok) {
      await lock.end().catch(() => {});
      throw new UserError(`run ${options.runId} already has a coordinator (another 'greennas search' process on some machine). Two would record its trials twice. Fix: stop that one first, or let it finish.`, { subject: '--resume' });
    }
    try {
      const boss = await openJobQueue(options.url, { onWarning: (m) => logger.warn(m) });
      return new QueueEvaluator(boss, lock, options);
    } catch (err) {
      await lock.end().catch(() => {});
      throw err;
    }
  }

  metrics(): readonly MetricSpec[] {
    return this.options.local.metrics();
  }

  private queueFor(runId: number): Promise<string> {
    let q = this.queues.get(runId);
    if (!q) {
      q = ensureQueue(this.boss, runId, { retryLimit: this.options.settings.retryLimit, expireInSeconds: this.options.settings.jobExpiryS });
      this.queues.set(runId, q);
    }
    return q;
  }

  async evaluate(arch: ArchJson, trial: TrialInfo): Promise<EvaluationResult> {
    const queue = await this.queueFor(trial.runId);
    const id = jobIdFor(trial.runId, trial.seq, trial.key);
    const existing = await this.boss.getJobById<EvaluationJob>(queue, id, { includeArchive: true });
    if (existing) {
      this.logger.info(`trial ${trial.seq}: re-attached to its queued job (${existing.state})`);
    } else {
      const data: EvaluationJob = { runId: trial.runId, seq: trial.seq, key: trial.key, arch };
      // The fixed id makes a second send a no-op, so a trial is never enqueued twice.
      await this.boss.send(queue, data, { id, singletonKey: `${trial.runId}:${trial.seq}` });
    }
    const job = existing && isDone(existing.state) ? existing : await this.waitFor(queue, id, trial.seq);
    return outcome(job, trial.seq);
  }

  private waitFor(queue: string, id: string, seq: number): Promise<PgBoss.JobWithMetadata<EvaluationJob>> {
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { queue, seq, resolve, reject });
      this.timer ??= setInterval(() => void this.poll(), this.options.pollMs ?? 100);
    });
  }

  /** Looks up every awaited job; settles the finished ones. Also fails jobs held by workers that stopped beating. */
  private async poll(): Promise<void> {
    if (this.polling || this.closed) return;
    this.polling = true;
    try {
      // One query for every awaited job: which of them finished (the full record is then read per job).
      const ids = [...this.waiting.keys()];
      const done = await this.boss.getDb().executeSql(
        `SELECT id FROM ${QUEUE_SCHEMA}.job WHERE id = ANY($1::uuid[]) AND state IN ('completed', 'failed', 'cancelled')`, [ids]);
      for (const { id } of done.rows as { id: string }[]) {
        const w = this.waiting.get(id);
        if (!w) continue;
        const job = await this.boss.getJobById<EvaluationJob>(w.queue, id);
        if (job && isDone(job.state)) {
          this.waiting.delete(id);
          w.resolve(job);
        }
      }
      if (Date.now() - this.lastMonitor > 1000) {
        this.lastMonitor = Date.now();
        await this.failJobsOfLostWorkers();
      }
    } catch (err) {
      // The database may be restarting: keep polling; the store's and the queue's own retries reconnect.
      this.logger.debug(`queue poll: ${(err as Error).message}`);
    } finally {
      this.polling = false;
      if (this.waiting.size === 0 && this.timer) {
        clearInterval(this.timer);
        this.timer = undefined;
      }
    }
  }

  /**
   * A worker whose heartbeat stopped (SIGKILL, machine gone) still holds its jobs as active until
   * they expire; failing them now hands them to the queue's retry at once. Only the attempt the
   * lost worker held is failed: a retry already running elsewhere is left alone.
   */
  private async failJobsOfLostWorkers(): Promise<void> {
    const workers = await this.options.store.listWorkers();
    for (const w of workers) {
      if (w.state !== 'running' || w.heartbeatAgeS <= LOST_AFTER_BEATS * w.heartbeatS + LOST_GRACE_S) continue;
      for (const held of w.current) {
        const id = held.jobId;
        const waiter = this.waiting.get(id);
        if (!waiter) continue;
        const job = await this.boss.getJobById<EvaluationJob>(waiter.queue, id);
        if (!job || job.state !== 'active' || job.retryCount !== held.attempt) continue;
        this.logger.warn(`worker ${w.id} on ${w.host} sent no heartbeat for ${Math.round(w.heartbeatAgeS)} s: trial ${held.seq} goes back to the queue`);
        await this.boss.fail(waiter.queue, id, { message: `worker ${w.id} lost (no heartbeat for ${Math.round(w.heartbeatAgeS)} s)` });
      }
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    for (const w of this.waiting.values()) w.reject(new TrialError('the coordinator stopped before the job finished', 'E_JOB_ABANDONED'));
    this.waiting.clear();
    // Jobs still queued stay in the database: workers go on with them and --resume re-attaches.
    await this.boss.stop({ graceful: false, wait: true, close: true }).catch(() => {});
    await this.lock.end().catch(() => {});
    await this.options.local.close();
  }
}

function isDone(state: string): boolean {
  return state === 'completed' || state === 'failed' || state === 'cancelled';
}

function outcome(job: PgBoss.JobWithMetadata<EvaluationJob>, seq: number): EvaluationResult {
  const out = job.output as (EvaluationOutput & { message?: string; value?: { message?: string } }) | null;
  if (job.state === 'completed' && out) {
    if (out.error) throw deserializeError(out.error);
    return { metrics: out.metrics ?? [], worker: out.worker, ...(out.model ? { model: decodeModel(out.model) } : {}) };
  }
  const why = out?.message ?? out?.value?.message ?? job.state;
  throw new TrialError(`trial ${seq}: its evaluation job ${job.state} after ${job.retryCount + 1} attempt(s) (${why})`, 'E_JOB_FAILED');
}
