import type { CommandModule } from 'yargs';
import { commonOptions } from '../options.js';
import { showRunTrials, type TrialsArgs } from './trials.js';

/** `greennas front RUN_ID`: the run's Pareto front (non-dominated complete trials). */
export const frontCommand: CommandModule<object, TrialsArgs> = {
  command: 'front <run-id>',
  describe: "Show a run's Pareto front",
  builder: (y) => y.positional('run-id', { describe: 'Run id (see greennas runs)', type: 'string' })
    .options({ db: commonOptions.db, json: commonOptions.json }) as never,
  handler: (args) => showRunTrials(args, async (store, runId) => {
    const ids = new Set(await store.getFrontIds(runId));
    return (t) => ids.has(t.id);
  }),
};
