import type { CommandModule } from 'yargs';
import { createStderrLogger, UserError } from '../../core/index.js';
import { comparisonNotes, comparisonTable, deltaTable, renderText } from '../../report/index.js';
import { commonOptions, printJson } from '../options.js';
import { compareBaselines, FULL_STEPS_DEFAULT } from '../compare-baselines.js';
import { remeasureInference } from '../compare-inference.js';
import { loadRunReport } from '../report-source.js';
import { openExistingStore, parseRunId, requireRun, withStore } from '../store-access.js';

interface CompareArgs {
  'run-id'?: string;
  db: string;
  models?: string;
  'full-steps'?: string;
  retrain: boolean;
  json: boolean;
  verbose: boolean;
}

/** `greennas compare RUN_ID`: trains the baselines beside the run's front and compressed models and prints the comparison table. */
export const compareCommand: CommandModule<object, CompareArgs> = {
  command: 'compare <run-id>',
  describe: "Train the baselines on a run's data and budget and compare them with its front and compressed models",
  builder: (y) => y.positional('run-id', { describe: 'Run id (see greennas runs)', type: 'string' })
    .options({
      models: { type: 'string', describe: 'Baselines to train, comma-separated (default: resnet50,mobilenetv2 for images; bert-base,distilbert for text)', requiresArg: true },
      'full-steps': { type: 'string', describe: `Train each full-size baseline this many steps, then extrapolate energy and time per step to the run's budget (at or above the budget: trained in full, with accuracy); 0 scales the proxy-scale baseline by multiply-adds instead (default ${FULL_STEPS_DEFAULT.image} for images, ${FULL_STEPS_DEFAULT.text} for text)`, requiresArg: true },
      retrain: { type: 'boolean', default: false, describe: 'Train the baselines again even when the run already has them' },
      db: commonOptions.db, json: commonOptions.json, verbose: commonOptions.verbose,
    }) as never,
  handler: async (args) => {
    const runId = parseRunId(args['run-id']);
    const fullSteps = args['full-steps'] === undefined ? undefined : Number(args['full-steps']);
    if (fullSteps !== undefined && (!Number.isInteger(fullSteps) || fullSteps < 0)) {
      throw new UserError(`--full-steps must be a whole number ≥ 0, got '${args['full-steps']}'. Fix: pass e.g. --full-steps 3, or 0 to scale by multiply-adds.`, { subject: '--full-steps' });
    }
    const models = args.models?.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
    if (models && models.length === 0) throw new UserError(`--models is empty. Fix: name baselines, e.g. --models resnet50.`, { subject: '--models' });
    const logger = createStderrLogger({ verbose: args.verbose, quiet: false });
    await withStore(await openExistingStore(args.db), async (store) => {
      const run = await requireRun(store, runId, args.db);
      const outcomes = await compareBaselines({ store, run, models, fullSteps, retrain: args.retrain, logger });
      for (const o of outcomes) if (o.outcome === 'failed') logger.warn(`compare: ${o.label} failed: ${o.reason}`);
      await remeasureInference({ store, run, logger });
      const report = await loadRunReport(store, runId, args.db);
      if (args.json) return printJson({ ...report.comparison, baselines: outcomes });
      process.stdout.write(`Run ${run.id}: ${run.space} on ${run.dataset}\n\n`);
      process.stdout.write(renderText(comparisonTable(report.comparison)));
      if (report.comparison.deltas.length) process.stdout.write(`\nChange against each baseline\n${renderText(deltaTable(report.comparison))}`);
      process.stdout.write('\n' + comparisonNotes(report.comparison).map((n) => `${n}\n`).join(''));
    });
  },
};
