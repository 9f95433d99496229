import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { deserializeError, UserError } from '../core/index.js';
import type { ProxyTrialResult, ProxyTrialTask } from './proxy-trial.js';
import type { ReferenceTrainResult, ReferenceTrainTask } from './reference-training.js';
import type { TrainerReply, TrainerTask } from './worker.js';

/** Path of the compiled worker entry (the pool must load .js, also when this file runs from source). */
export function workerEntryPath(): string {
  const here = fileURLToPath(import.meta.url);
  const dir = path.dirname(here);
  const compiled = here.endsWith('.ts')
    ? path.resolve(dir, '../../dist/src/trainer/worker.js')
    : path.join(dir, 'worker.js');
  if (!existsSync(compiled)) {
    throw new UserError(`the trainer worker ${compiled} is missing; build greennas first with \`npm run build\`.`);
  }
  return compiled;
}

/** A pool of worker threads that train models, each with its own tfjs backend. */
export class TrainerPool {
  private readonly piscina: Piscina;

  /** Starts `workers` threads (one per core is the useful maximum). */
  constructor(options: { workers: number }) {
    if (!Number.isInteger(options.workers) || options.workers < 1) {
      throw new UserError(`--workers must be a positive integer, got ${options.workers}.`, { subject: '--workers' });
    }
    this.piscina = new Piscina({
      filename: workerEntryPath(),
      minThreads: options.workers,
      maxThreads: options.workers,
      // A worker keeps its backend and compiled kernels; never retire it while the pool lives.
      idleTimeout: Number.POSITIVE_INFINITY,
    });
  }

  /** Number of worker threads. */
  get workers(): number {
    return this.piscina.maxThreads;
  }

  /** Trains a reference model in a worker; rethrows the worker's error with its class, code and message. */
  async trainReference(task: ReferenceTrainTask): Promise<ReferenceTrainResult> {
    const message: TrainerTask = { kind: 'reference-training', task };
    const reply = (await this.piscina.run(message)) as TrainerReply<ReferenceTrainResult>;
    if (!reply.ok) throw deserializeError(reply.error);
    return reply.result;
  }

  /** Trains and measures one proxy architecture in a worker; errors keep their class, code and message. A worker that dies is replaced by the pool. */
  async runProxyTrial(task: ProxyTrialTask): Promise<ProxyTrialResult> {
    const message: TrainerTask = { kind: 'proxy-trial', task };
    const reply = (await this.piscina.run(message)) as TrainerReply<ProxyTrialResult>;
    if (!reply.ok) throw deserializeError(reply.error);
    return reply.result;
  }

  /** Stops all workers. */
  async close(): Promise<void> {
    await this.piscina.destroy();
  }
}
