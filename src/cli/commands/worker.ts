import type { CommandModule } from 'yargs';
import { createStderrLogger, UserError } from '../../core/index.js';
import { runWorker, type EvaluatorForRun } from '../../distributed/index.js';
import { isPostgresUrl, PgRunStore } from '../../store/index.js';
import { commonOptions, positiveInt, printJson } from '../options.js';
import { buildSearch, type SearchSettings } from '../search-setup.js';
import { parseRunId, withStore } from '../store-access.js';

interface WorkerArgs {
  db: string;
  json: boolean;
  verbose: boolean;
  run?: string;
  workers?: string;
  heartbeatS?: string;
  evalDelayMs?: string;
}

/** A run's evaluator on this machine: the same one `greennas search` would build from the stored settings. */
export const evaluatorForRun: EvaluatorForRun = async (run) => (await buildSearch(run.settings as unknown as SearchSettings)).evaluator;

function nonNegativeMs(flag: string, value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new UserError(`${flag} must be a number of milliseconds ≥ 0, got '${value}'. Fix: pass e.g. ${flag} 200.`, { subject: flag });
  return n;
}

/** `greennas worker`: evaluates queued trials of distributed runs on this machine. */
export const workerCommand: CommandModule<object, WorkerArgs> = {
  command: 'worker',
  describe: "Evaluate queued trials of 'search --distributed' runs on this machine (any number of workers, any host)",
  builder: (y) =>
    y.options({
      run: { type: 'string', describe: 'Serve only this run, and exit when it is no longer running (default: every running run, until Ctrl-C)', requiresArg: true },
      workers: { type: 'string', describe: 'Evaluations at once in this process (default 1)', requiresArg: true },
      'heartbeat-s': { type: 'string', describe: 'Seconds between heartbeats; the coordinator re-queues a trial after 3 missed ones (default 5)', requiresArg: true },
      'eval-delay-ms': { type: 'string', describe: 'Artificial wait before each evaluation, for benchmarks and fault drills on table spaces (default 0)', requiresArg: true },
      ...commonOptions,
      db: { ...commonOptions.db, default: undefined, demandOption: true, describe: 'The run database the coordinator uses: postgres://user:password@host:port/database' },
    }) as never,
  handler: async (args) => {
    const logger = createStderrLogger({ verbose: args.verbose, quiet: args.json });
    if (!isPostgresUrl(args.db)) {
      throw new UserError(`--db ${args.db} is not a PostgreSQL URL; workers share a search through PostgreSQL only. Fix: pass the coordinator's --db postgres://user:password@host:port/database.`, { subject: '--db' });
    }
    const runId = args.run === undefined ? undefined : parseRunId(args.run, '--run');
    const slots = args.workers === undefined ? 1 : positiveInt('--workers', args.workers);
    const heartbeatS = args.heartbeatS === undefined ? 5 : positiveInt('--heartbeat-s', args.heartbeatS);
    const evalDelayMs = args.evalDelayMs === undefined ? 0 : nonNegativeMs('--eval-delay-ms', args.evalDelayMs);
    const store = await PgRunStore.open(args.db, { mode: 'existing', flag: '--db', onWarning: (m) => logger.warn(m) });
    await withStore(store, async () => {
      const abort = new AbortController();
      const onSignal = () => {
        if (abort.signal.aborted) process.exit(130);
        logger.warn('stopping: finishing the trials in progress (Ctrl-C again to quit at once; their jobs then expire and are retried elsewhere)');
        abort.abort();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      try {
        logger.info(`worker on ${store.path}: ${slots} slot(s), ${runId === undefined ? 'every running run' : `run ${runId}`}`);
        const summary = await runWorker({ store, url: args.db, runId, slots, heartbeatS, evalDelayMs, evaluatorForRun, logger, signal: abort.signal });
        logger.info(`worker ${summary.id}: ${summary.completed} evaluations`);
        if (args.json) printJson(summary);
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
  },
};
