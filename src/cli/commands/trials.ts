import type { CommandModule } from 'yargs';
import { commonOptions, printJson } from '../options.js';
import { openExistingStore, parseRunId, requireRun, withStore } from '../store-access.js';
import { trialToJson, trialsTable } from '../format.js';
import type { RunStore, TrialRecord } from '../../store/index.js';

/** Arguments of `trials` and `front`. */
export interface TrialsArgs { db: string; json: boolean; runId: number }

/** Prints trials of a run as a table (stdout) or JSON. */
export async function showTrials(store: RunStore, runId: number, trials: TrialRecord[], json: boolean): Promise<void> {
  if (json) {
    printJson(trials.map(trialToJson));
    return;
  }
  const run = await store.getRun(runId);
  const names = run?.objectives.flatMap((o) => o.split('+')) ?? [];
  const extra = [...new Set(trials.flatMap((t) => t.metrics.map((m) => m.name)))].filter((n) => !names.includes(n)).slice(0, 2);
  process.stdout.write(trialsTable(trials, [...names, ...extra], (a) => (typeof a === 'string' ? a : JSON.stringify(a))));
  if (trials.some((t) => t.metrics.some((m) => m.source === 'estimated'))) process.stdout.write('~ estimated (no energy counter on the machine that ran it)\n');
}

/** `greennas trials RUN_ID`: every trial of a run, in evaluation order. */
export const trialsCommand: CommandModule<object, TrialsArgs> = {
  command: 'trials <run-id>',
  describe: 'List every trial of a run in evaluation order',
  builder: (y) => y.positional('run-id', { describe: 'Run id (see greennas runs)', type: 'string' })
    .options({ db: commonOptions.db, json: commonOptions.json }) as never,
  handler: (args) => showRunTrials(args, async () => () => true),
};

/**
 * Shared body of `trials` and `front`: opens --db, checks RUN_ID, and prints the run's trials that
 * `select` keeps (it is given the open store and the run id).
 */
export async function showRunTrials(
  args: TrialsArgs,
  select: (store: RunStore, runId: number) => Promise<(t: TrialRecord) => boolean>,
): Promise<void> {
  const runId = parseRunId(args.runId);
  await withStore(await openExistingStore(args.db), async (store) => {
    await requireRun(store, runId, args.db);
    const keep = await select(store, runId);
    await showTrials(store, runId, (await store.listTrials(runId)).filter(keep), args.json);
  });
}
