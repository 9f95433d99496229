import type { CommandModule } from 'yargs';
import { hostname } from 'node:os';
import { createStderrLogger, UserError, VERSION } from '../../core/index.js';
import { runStudy } from '../../controller/index.js';
import { commonOptions, printJson } from '../options.js';
import { openRunStore, type OpenedRunStore } from '../../store/index.js';
import { ProgressBar } from '../progress.js';
import { trialToJson, trialsTable } from '../format.js';
import { buildSearch, resolveSettings, type SearchFlags, type SearchSettings } from '../search-setup.js';
import { parseWorkers, proxyOptions, PROXY_DEFINING_FLAGS } from '../proxy-options.js';
import { parseRunId, requireRun, withStore } from '../store-access.js';
import { distributedOptions, queueEvaluatorFor, resolveDistributed } from '../distributed-setup.js';
import type { DistributedSettings } from '../../distributed/index.js';

interface SearchArgs extends SearchFlags {
  db: string;
  json: boolean;
  verbose: boolean;
  quiet: boolean;
  resume?: string;
  distributed: boolean;
  queueDepth?: string;
}

/** Flags that define a search; with --resume they come from the stored run instead. */
const DEFINING_FLAGS = ['space', 'dataset', 'objectives', 'reward', 'latencyTarget', 'alpha', 'beta', 'strategy', 'trials', 'seed'] as const;

/** `greennas search`: runs (or resumes) a multi-objective architecture search. */
export const searchCommand: CommandModule<object, SearchArgs> = {
  command: 'search',
  describe: 'Run a multi-objective architecture search (or --resume one)',
  builder: (y) =>
    y.options({
      space: { type: 'string', describe: 'Search space: a built-in name (see greennas spaces) or a path to a plug-in module', requiresArg: true },
      dataset: { type: 'string', describe: "Dataset (default: the space's first)", requiresArg: true },
      objectives: { type: 'string', describe: "Comma-separated metrics to optimise, e.g. accuracy,latency.edgegpu,energy.edgegpu (default: the space's)", requiresArg: true },
      reward: { type: 'string', describe: 'pareto (multi-objective ranking) or mnas (scalar ACC×(LAT/T)^w)', requiresArg: true },
      'latency-target': { type: 'string', describe: 'MnasNet reward: target latency T, in the latency metric’s unit', requiresArg: true },
      alpha: { type: 'string', describe: 'MnasNet reward exponent when LAT ≤ T (default −0.07)', requiresArg: true },
      beta: { type: 'string', describe: 'MnasNet reward exponent when LAT > T (default −0.07)', requiresArg: true },
      strategy: { type: 'string', describe: 'Search strategy (see greennas spaces --strategies)', requiresArg: true },
      trials: { type: 'string', describe: 'Number of architectures to evaluate (default 100 for a table space, 8 for a trained one)', requiresArg: true },
      seed: { type: 'string', describe: 'Seed of every random choice (default: a random one, printed and stored)', requiresArg: true },
      resume: { type: 'string', describe: 'Resume the run with this id where it stopped', requiresArg: true },
      quiet: { type: 'boolean', default: false, describe: 'No progress bar' },
      ...proxyOptions,
      ...distributedOptions,
      ...commonOptions,
    }) as never,
  handler: async (args) => {
    const logger = createStderrLogger({ verbose: args.verbose, quiet: args.quiet || args.json });
    let settings: SearchSettings;
    let runId: number | undefined;
    // Many machines: a run started with --distributed stays distributed on --resume.
    let distributed: DistributedSettings | undefined;
    let store: OpenedRunStore;
    if (args.resume !== undefined) {
      const given = [...DEFINING_FLAGS, ...PROXY_DEFINING_FLAGS].filter((f) => (args as unknown as Record<string, unknown>)[f] !== undefined);
      if (given.length > 0) {
        const flag = given[0] === 'latencyTarget' ? '--latency-target' : `--${given[0]}`;
        throw new UserError(`--resume takes every search setting from the stored run, so ${flag} cannot be given with it. Fix: drop ${flag}.`, { subject: flag });
      }
      runId = parseRunId(args.resume, '--resume');
      store = await openRunStore(args.db, { mode: 'existing', onWarning: (m) => logger.warn(m) });
      const run = await requireRun(store, runId, args.db, '--resume').catch(async (e) => { await store.close(); throw e; });
      if (run.state === 'complete') {
        await store.close();
        throw new UserError(`--resume ${runId}: that run is already complete (${run.budget} trials). Fix: start a new search.`, { subject: '--resume' });
      }
      settings = run.settings as unknown as SearchSettings;
      distributed = run.settings.distributed as DistributedSettings | undefined;
    } else {
      // Validate everything before the database is touched, so bad input never leaves a run behind.
      settings = await resolveSettings(args);
      distributed = resolveDistributed(args);
      store = await openRunStore(args.db, { mode: 'create', onWarning: (m) => logger.warn(m) });
    }

    await withStore(store, async () => {
      const setup = await buildSearch(settings, { logger, workers: args.resume !== undefined ? parseWorkers(args.workers) : undefined });
      if (runId === undefined) {
        const run = await store.createRun({
          space: settings.space, spaceVersion: setup.space.version, dataset: settings.dataset, strategy: settings.strategy,
          seed: settings.seed, budget: settings.trials, objectives: setup.objectives.map((o) => o.name),
          settings: { ...(settings as unknown as Record<string, unknown>), ...(distributed ? { distributed } : {}) },
          versions: { greennas: VERSION, node: process.version, ...setup.versions },
          backend: setup.evaluator.backend, host: hostname(),
        });
        runId = run.id;
      } else {
        await store.setRunState(runId, 'running');
      }
      const id = runId;
      if (distributed) setup.evaluator = await queueEvaluatorFor(store, id, distributed, setup.evaluator, logger);
      logger.info(`run ${id}: ${settings.space} on ${settings.dataset}, ${settings.strategy}, ${settings.trials} trials, seed ${settings.seed}, objectives ${setup.objectives.map((o) => o.name).join(', ')} (backend ${setup.evaluator.backend}, db ${store.path})`);
      const bar = new ProgressBar(`run ${id}`, settings.trials, { enabled: !args.quiet && !args.json });
      const abort = new AbortController();
      const onSignal = () => {
        if (abort.signal.aborted) process.exit(130);
        logger.warn('interrupted: finishing the trials in flight, then stopping (Ctrl-C again to quit at once); resume with --resume ' + id);
        abort.abort();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      try {
        const result = await runStudy({
          store, runId: id, space: setup.space, evaluator: setup.evaluator,
          strategy: setup.strategy, seed: settings.seed,
          objectives: setup.objectives, budget: settings.trials, logger, signal: abort.signal,
          onTrial: (trial, p) => {
            bar.update(p.done, `front ${p.frontSize}`);
            if (trial.state === 'failed') (settings.proxy ? logger.info : logger.debug).call(logger, `trial ${trial.seq} failed: ${trial.error?.message}`);
          },
        });
        bar.finish();
        const state = result.stoppedEarly === 'aborted' ? 'interrupted' : 'complete';
        await store.setRunState(id, state, result.stoppedEarly);
        const trials = await store.listTrials(id);
        const frontIds = new Set(result.frontIds);
        const front = trials.filter((t) => frontIds.has(t.id));
        if (args.json) {
          printJson({ runId: id, state, trials: result.finished, failed: result.failed, replayed: result.replayed, front: front.map(trialToJson) });
        } else {
          logger.info(`run ${id} ${state}: ${result.finished} trials (${result.failed} failed${result.replayed ? `, ${result.replayed} replayed from the store` : ''}), front of ${front.length}`);
          // Trained spaces search on validation accuracy; test accuracy and size are shown beside it.
          const shown = setup.objectives.flatMap((o) => [...o.requires]);
          if (settings.proxy) shown.push('accuracy', 'params', 'macs', 'train.seconds');
          process.stdout.write(trialsTable(front, shown.filter((v, i, a) => a.indexOf(v) === i),
            (a) => setup.space.label?.(a as never) ?? (typeof a === 'string' ? a : JSON.stringify(a))));
        }
      } catch (err) {
        bar.finish();
        await store.setRunState(id, 'failed', err instanceof Error ? err.message : String(err)).catch(() => {});
        throw err;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        await setup.evaluator.close();
      }
    });
  },
};
