import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type PgBoss from 'pg-boss';
import { serializeError, silentLogger, UserError, VERSION, type Logger, type MetricValue } from '../core/index.js';
import type { Evaluator } from '../space/index.js';
import type { RunRecord, RunStore, WorkerBeat, WorkerJob } from '../store/index.js';
import { describeDevices } from './devices.js';
import { encodeModel, ensureQueue, openJobQueue, retryTransient, type EvaluationJob, type EvaluationOutput } from './job-queue.js';
import { DEFAULT_DISTRIBUTED, type DistributedSettings } from './queue-evaluator.js';

/**
 * Builds the evaluator of a stored run on this worker (a table lookup, or proxy training on this
 * machine's devices). Passed in, so the worker knows nothing of how spaces are trained.
 */
export type EvaluatorForRun = (run: RunRecord, options: { slots: number }) => Promise<Evaluator>;

/** Options of runWorker. */
export interface WorkerOptions {
  /** The run store (PostgreSQL). */
  store: RunStore;
  /** Its URL (the queue lives in the same database). */
  url: string;
  /** Serve only this run (and stop when it is no longer running); undefined serves every running run. */
  runId?: number;
  /** Evaluations at once in this process. */
  slots: number;
  /** Seconds between heartbeats. */
  heartbeatS: number;
  /** Artificial wait before each evaluation (benchmarks and fault tests on table spaces). */
  evalDelayMs?: number;
  /** How a run's evaluator is built. */
  evaluatorForRun: EvaluatorForRun;
  /** Progress and warnings. */
  logger?: Logger;
  /** Stops taking jobs; jobs in progress finish first. */
  signal?: AbortSignal;
  /** How long to wait between empty fetches. */
  pollMs?: number;
}

/** What a worker did. */
export interface WorkerSummary {
  /** Worker id. */
  id: string;
  /** Jobs completed (successful or failed evaluations). */
  completed: number;
}

interface ServedRun {
  run: RunRecord;
  queue: string;
  evaluator: Promise<Evaluator>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Checks that a run can be served by this worker; a UserError says why not and the fix. */
export function checkServable(run: RunRecord | undefined, runId: number, db: string): asserts run is RunRecord {
  if (!run) {
    throw new UserError(`--run ${runId}: no such run in ${db}. Fix: list the runs with 'greennas runs --db ${db}', and start the coordinator ('greennas search --distributed') first.`, { subject: '--run' });
  }
  const theirs = run.versions.greennas;
  if (theirs !== VERSION) {
    throw new UserError(`--run ${runId} was started by greennas ${theirs ?? '(unknown)'} but this worker is greennas ${VERSION}; results of different versions must not mix in one run. Fix: install greennas ${theirs} on this machine.`, { subject: '--run' });
  }
  if (!run.settings.distributed) {
    throw new UserError(`--run ${runId} is not a distributed run, so it queues no jobs. Fix: start it with 'greennas search --distributed'.`, { subject: '--run' });
  }
}

/**
 * Takes evaluation jobs from the queue and completes them with metrics and the trained model (or the evaluation's
 * error), while beating its heartbeat into the workers table. Never writes trials: the
 * coordinator does, once.
 */
export async function runWorker(options: WorkerOptions): Promise<WorkerSummary> {
  const { store, url } = options;
  const logger = options.logger ?? silentLogger;
  const host = hostname();
  const id = `${host}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const label = `${host}:${process.pid}`;
  const devices = await describeDevices();
  const current = new Map<string, WorkerJob>();
  const served = new Map<number, ServedRun>();
  const skipped = new Set<number>();
  let completed = 0;
  let pinnedDone = false;

  if (options.runId !== undefined) checkServable(await store.getRun(options.runId), options.runId, (store as { path?: string }).path ?? url);

  const boss: PgBoss = await openJobQueue(url, { onWarning: (m) => logger.warn(m) });
  const startedAt = new Date().toISOString();
  const beat = (state: WorkerBeat['state']): WorkerBeat => ({
    id, runId: options.runId ?? null, host, pid: process.pid, devices, slots: options.slots, version: VERSION, state,
    current: [...current.values()], startedAt, heartbeatS: options.heartbeatS,
  });
  // One beat is written at a time, and one asked for meanwhile is written after it with `current` as it is then:
  // dropping it would leave a job just taken out of the stored heartbeat, and two at once may commit out of order.
  let writing: Promise<void> | undefined;
  let again = false;
  const sendBeat = (): Promise<void> => {
    if (writing) {
      again = true;
      return writing;
    }
    writing = (async () => {
      do {
        again = false;
        try {
          await store.saveWorker(beat('running'));
        } catch (err) {
          logger.warn(`heartbeat not stored: ${(err as Error).message}`);
        }
      } while (again);
      writing = undefined; // in the same turn as the last check of `again`, so no request falls between
    })();
    return writing;
  };

  /** Picks up new running runs (or, pinned, notices the run ended). */
  const refresh = async () => {
    const runs = options.runId !== undefined ? [await store.getRun(options.runId)].filter((r): r is RunRecord => r !== undefined) : await store.listRuns();
    for (const run of runs) {
      if (run.state !== 'running') {
        if (run.id === options.runId) pinnedDone = true;
        continue;
      }
      if (served.has(run.id) || skipped.has(run.id)) continue;
      if (!run.settings.distributed) { skipped.add(run.id); continue; }
      if (run.versions.greennas !== VERSION) {
        skipped.add(run.id);
        logger.warn(`run ${run.id} was started by greennas ${run.versions.greennas}; this worker is ${VERSION} and leaves it to workers of that version`);
        continue;
      }
      const ds = { ...DEFAULT_DISTRIBUTED, ...(run.settings.distributed as Partial<DistributedSettings>) };
      const queue = await ensureQueue(boss, run.id, { retryLimit: ds.retryLimit, expireInSeconds: ds.jobExpiryS });
      const evaluator = options.evaluatorForRun(run, { slots: options.slots });
      evaluator.catch(() => {}); // reported when a job needs it
      served.set(run.id, { run, queue, evaluator });
      logger.info(`worker ${id}: serving run ${run.id} (${run.space} on ${run.dataset})`);
    }
  };

  const handle = async (s: ServedRun, job: PgBoss.JobWithMetadata<EvaluationJob>) => {
    const held: WorkerJob = { runId: s.run.id, seq: job.data.seq, jobId: job.id, attempt: job.retryCount };
    current.set(job.id, held);
    // The coordinator re-queues a lost worker's jobs from its last stored heartbeat; a job not named there before
    // this worker dies stays active, unseen, until it expires (jobExpiryS, an hour by default).
    await sendBeat();
    logger.debug(`trial ${job.data.seq} of run ${s.run.id}: started (attempt ${job.retryCount + 1})`);
    const started = performance.now();
    let output: EvaluationOutput;
    try {
      if (options.evalDelayMs) await sleep(options.evalDelayMs);
      const evaluator = await s.evaluator;
      const out = await evaluator.evaluate(job.data.arch as never, { runId: s.run.id, seq: job.data.seq, key: job.data.key });
      output = { metrics: out.metrics.map((m) => withProvenance(m, host, devices)), worker: label, host, devices, evalMs: performance.now() - started };
      // The trained model rides back with the metrics; the coordinator stores it with the trial it writes.
      if (out.model) output.model = encodeModel(out.model);
    } catch (err) {
      output = { error: serializeError(err), worker: label, host, devices, evalMs: performance.now() - started };
    }
    // Completing must survive a database restart, or a finished evaluation would be redone.
    await retryTransient(() => boss.complete(s.queue, job.id, output as object), 10 * 60_000, (m) => logger.warn(m));
    current.delete(job.id);
    completed++;
    logger.debug(`trial ${job.data.seq} of run ${s.run.id}: done in ${Math.round(output.evalMs)} ms`);
  };

  const slot = async () => {
    let turn = 0;
    while (!options.signal?.aborted && !pinnedDone) {
      const runs = [...served.values()];
      let got = false;
      for (let i = 0; i < runs.length && !got; i++) {
        const s = runs[(turn + i) % runs.length] as ServedRun;
        const jobs = await boss.fetch<EvaluationJob>(s.queue, { batchSize: 1, includeMetadata: true }).catch(() => []);
        const job = jobs[0];
        if (job) {
          got = true;
          await handle(s, job);
        }
      }
      turn++;
      if (!got) await sleep(options.pollMs ?? 100);
    }
  };

  await store.saveWorker(beat('running'));
  const heartbeat = setInterval(() => void sendBeat(), options.heartbeatS * 1000);
  let refreshing = false;
  const refresher = setInterval(() => {
    if (refreshing) return;
    refreshing = true;
    refresh().catch((err) => logger.warn(`cannot list runs: ${(err as Error).message}`)).finally(() => { refreshing = false; });
  }, 1000);
  try {
    await refresh();
    if (options.runId !== undefined && pinnedDone) logger.info(`run ${options.runId} is no longer running; nothing to do`);
    await Promise.all(Array.from({ length: options.slots }, () => slot()));
  } finally {
    clearInterval(heartbeat);
    clearInterval(refresher);
    await writing; // a 'running' beat committing after this one would show a stopped worker as lost
    await store.saveWorker(beat('stopped')).catch(() => {});
    for (const s of served.values()) await (await s.evaluator.catch(() => undefined))?.close();
    await boss.stop({ graceful: false, wait: true, close: true }).catch(() => {});
  }
  return { id, completed };
}

/** Metrics measured here carry the host and devices they were measured on; table lookups are not measurements. */
function withProvenance(m: MetricValue, host: string, devices: string[]): MetricValue {
  if (m.source === 'table' || m.source === 'computed') return m;
  return { ...m, detail: { ...(m.detail ?? {}), host, devices } };
}
