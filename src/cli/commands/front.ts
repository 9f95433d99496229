import type { CommandModule } from 'yargs';
import { commonOptions } from '../options.js';
import { openExistingStore, parseRunId, requireRun, withStore } from '../store-access.js';
import { showTrials } from './trials.js';

interface FrontArgs { db: string; json: boolean; runId: number }

/** `greennas front RUN_ID`: the run's Pareto front (non-dominated complete trials). */
export const frontCommand: CommandModule<object, FrontArgs> = {
  command: 'front <run-id>',
  describe: "Show a run's Pareto front",
  builder: (y) => y.positional('run-id', { describe: 'Run id (see greennas runs)', type: 'string' })
    .options({ db: commonOptions.db, json: commonOptions.json }) as never,
  handler: async (args) => {
    const runId = parseRunId(args.runId);
    await withStore(await openExistingStore(args.db), async (store) => {
      await requireRun(store, runId, args.db);
      const ids = new Set(await store.getFrontIds(runId));
      const trials = (await store.listTrials(runId)).filter((t) => ids.has(t.id));
      await showTrials(store, runId, trials, args.json);
    });
  },
};
