import { createHash } from 'node:crypto';
import PgBoss from 'pg-boss';
import type { MetricValue, ModelArtifact, SerializedError } from '../core/index.js';
import { describeConnectError, isTransientPgError } from '../store/index.js';

/** PostgreSQL schema of the job queue's own tables (pg-boss), next to greennas's. */
export const QUEUE_SCHEMA = 'greennas_queue';

/** What a worker needs to evaluate one trial. */
export interface EvaluationJob {
  /** Run id. */
  runId: number;
  /** Trial position in the run. */
  seq: number;
  /** The space's key of the architecture. */
  key: string;
  /** The architecture JSON. */
  arch: unknown;
}

/** What a worker hands back: metrics or the evaluation's error, and who evaluated it on what. */
export interface EvaluationOutput {
  /** Metrics of a successful evaluation. */
  metrics?: MetricValue[];
  /** Why the evaluation failed (the trial is then recorded as failed; a lost worker is not this). */
  error?: SerializedError;
  /** `host:pid` of the worker. */
  worker: string;
  /** Host name of the worker. */
  host: string;
  /** Devices the worker evaluated on. */
  devices: string[];
  /** Wall time of the evaluation on the worker (without the queue's wait). */
  evalMs: number;
  /** The trained model, its weights as base64 (the job's output is JSON); the coordinator stores it with the trial. */
  model?: EncodedModel;
}

/** A ModelArtifact in JSON form, for the job queue. */
export interface EncodedModel {
  /** See ModelArtifact.format. */
  format: ModelArtifact['format'];
  /** See ModelArtifact.topology. */
  topology: object;
  /** See ModelArtifact.weightSpecs. */
  weightSpecs: object[];
  /** ModelArtifact.weightData in base64. */
  weightDataBase64: string;
}

/** A model as JSON for a job's output. */
export function encodeModel(m: ModelArtifact): EncodedModel {
  return { format: m.format, topology: m.topology, weightSpecs: m.weightSpecs, weightDataBase64: Buffer.from(m.weightData.buffer, m.weightData.byteOffset, m.weightData.byteLength).toString('base64') };
}

/** The model back from a job's output. */
export function decodeModel(e: EncodedModel): ModelArtifact {
  return { format: e.format, topology: e.topology, weightSpecs: e.weightSpecs, weightData: new Uint8Array(Buffer.from(e.weightDataBase64, 'base64')) };
}

/** The queue of one run: workers of any host take its jobs. */
export function queueName(runId: number): string {
  return `greennas-run-${runId}`;
}

/**
 * A job id that is a pure function of (run, trial, architecture), so the same trial is never
 * enqueued twice: a re-send after a coordinator restart collides with the existing job and
 * re-attaches to it instead.
 */
export function jobIdFor(runId: number, seq: number, key: string): string {
  const h = createHash('sha1').update(`greennas:${runId}:${seq}:${key}`).digest('hex');
  // RFC 4122 layout, version 5 (name-based, SHA-1), so the id is a valid uuid for the queue's uuid column.
  const variant = ((parseInt(h.slice(16, 18), 16) & 0x3f) | 0x80).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(18, 20)}-${h.slice(20, 32)}`;
}

/** Options of openJobQueue. */
export interface JobQueueOptions {
  /** Flag named in connection errors. */
  flag?: string;
  /** Told about queue errors (lost connections while the database restarts). */
  onWarning?(message: string): void;
  /** Whether this process runs the queue's maintenance (expiring jobs of dead workers). */
  supervise?: boolean;
}

/** Starts a pg-boss instance on the run database; a failure to connect is a UserError naming `flag`. */
export async function openJobQueue(url: string, options: JobQueueOptions = {}): Promise<PgBoss> {
  const boss = new PgBoss({
    connectionString: url, schema: QUEUE_SCHEMA, max: 4, application_name: 'greennas-queue',
    supervise: options.supervise ?? true, schedule: false,
    // Expiry of a silent job is the backstop; lost workers are normally caught earlier by their heartbeats.
    maintenanceIntervalSeconds: 10,
  });
  let lastWarning = 0;
  boss.on('error', (err: Error) => {
    // Without a listener pg-boss's errors would crash the process; a restarting database is expected.
    const now = Date.now();
    if (now - lastWarning > 5000) options.onWarning?.(`job queue: ${err.message}${isTransientPgError(err) ? ' (reconnecting)' : ''}`);
    lastWarning = now;
  });
  try {
    await boss.start();
  } catch (err) {
    await boss.stop({ graceful: false, wait: false }).catch(() => {});
    throw describeConnectError(err, url, options.flag ?? '--db');
  }
  return boss;
}

/** Creates a run's queue once (idempotent across processes). */
export async function ensureQueue(boss: PgBoss, runId: number, settings: { retryLimit: number; expireInSeconds: number }): Promise<string> {
  const name = queueName(runId);
  if (await boss.getQueue(name)) return name;
  try {
    await boss.createQueue(name, { name, policy: 'standard', retryLimit: settings.retryLimit, retryDelay: 0, expireInSeconds: settings.expireInSeconds });
  } catch (err) {
    if (!(await boss.getQueue(name))) throw err; // someone else created it at the same moment: fine
  }
  return name;
}

/** Retries `fn` while the database is unreachable (restart), up to `timeoutMs`. */
export async function retryTransient<T>(fn: () => Promise<T>, timeoutMs: number, onWarning?: (m: string) => void): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!isTransientPgError(err) || Date.now() > deadline) throw err;
      if (attempt === 0) onWarning?.(`lost the database (${(err as Error).message}); retrying`);
      await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** attempt)));
    }
  }
}
