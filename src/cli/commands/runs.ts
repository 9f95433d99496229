import type { CommandModule } from 'yargs';
import { commonOptions, printJson } from '../options.js';
import { openExistingStore, withStore } from '../store-access.js';
import { renderTable } from '../format.js';

interface RunsArgs { db: string; json: boolean }

/** `greennas runs`: every run in the database, newest first. */
export const runsCommand: CommandModule<object, RunsArgs> = {
  command: 'runs',
  describe: 'List the runs in the database, newest first',
  builder: (y) => y.options({ db: commonOptions.db, json: commonOptions.json }),
  handler: async (args) => {
    await withStore(await openExistingStore(args.db), async (store) => {
      const runs = await store.listRuns();
      if (args.json) {
        printJson(runs.map((r) => ({
          id: r.id, state: r.state, createdAt: r.createdAt, updatedAt: r.updatedAt, space: r.space, spaceVersion: r.spaceVersion,
          dataset: r.dataset, strategy: r.strategy, seed: r.seed, budget: r.budget, objectives: r.objectives, backend: r.backend,
          host: r.host, versions: r.versions, settings: r.settings, ...(r.reason ? { reason: r.reason } : {}),
        })));
        return;
      }
      if (runs.length === 0) {
        process.stderr.write(`no runs in ${args.db} yet; start one with 'greennas search'\n`);
        return;
      }
      const counts = await Promise.all(runs.map(async (r) => {
        const trials = await store.listTrials(r.id);
        return `${trials.filter((t) => t.kind === 'search' && t.state !== 'running').length}/${r.budget}`;
      }));
      process.stdout.write(renderTable(
        ['id', 'state', 'created', 'space', 'dataset', 'strategy', 'seed', 'trials', 'objectives', 'backend'],
        runs.map((r, i) => [String(r.id), r.state, r.createdAt.replace('T', ' ').slice(0, 19), r.space, r.dataset, r.strategy,
          String(r.seed), counts[i] ?? '', r.objectives.join(','), r.backend]),
      ));
    });
  },
};
