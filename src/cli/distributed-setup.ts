import { UserError, type Logger } from '../core/index.js';
import { DEFAULT_DISTRIBUTED, QueueEvaluator, type DistributedSettings } from '../distributed/index.js';
import type { Evaluator } from '../space/index.js';
import { isPostgresUrl, PgRunStore, type RunStore } from '../store/index.js';
import { positiveInt } from './options.js';

/** The flags `greennas search` gets for running as the coordinator of many workers. */
export const distributedOptions = {
  distributed: { type: 'boolean', default: false, describe: "Coordinate: queue each evaluation for 'greennas worker' processes on any machine (needs --db postgres://...)" },
  'queue-depth': { type: 'string', describe: `--distributed: evaluations queued or running at once (default ${DEFAULT_DISTRIBUTED.queueDepth}; at least the workers' total slots)`, requiresArg: true },
} as const;

/** Validates the distributed flags before anything is stored; undefined when the search is local. */
export function resolveDistributed(args: { distributed?: boolean; queueDepth?: string; db: string }): DistributedSettings | undefined {
  if (!args.distributed) {
    if (args.queueDepth !== undefined) throw new UserError('--queue-depth only applies to --distributed. Fix: add --distributed or drop --queue-depth.', { subject: '--queue-depth' });
    return undefined;
  }
  if (!isPostgresUrl(args.db)) {
    throw new UserError(`--distributed needs a database every worker can reach, but --db ${args.db} is an SQLite file. Fix: pass --db postgres://user:password@host:port/database.`, { subject: '--db' });
  }
  const queueDepth = args.queueDepth === undefined ? DEFAULT_DISTRIBUTED.queueDepth : positiveInt('--queue-depth', args.queueDepth);
  return { ...DEFAULT_DISTRIBUTED, queueDepth };
}

/** The coordinator's evaluator: hands every evaluation of the run to the job queue; `local` only supplies metric specs. */
export async function queueEvaluatorFor(store: RunStore, runId: number, settings: DistributedSettings, local: Evaluator, logger: Logger): Promise<Evaluator> {
  if (!(store instanceof PgRunStore)) throw new UserError('--distributed needs --db postgres://... . Fix: pass a PostgreSQL URL.', { subject: '--db' });
  return QueueEvaluator.open({ store, url: store.url, runId, local, settings, logger });
}
