import type { CommandModule } from 'yargs';
import { createRng, createStderrLogger, UserError } from '../../core/index.js';
import { loadDataset, subsetSplit } from '../../data/index.js';
import { checkExportRequest, EXPORT_FORMATS, exportModels, type ExportData, type ExportFormat } from '../../export/index.js';
import type { RunRecord } from '../../store/index.js';
import { initBackend } from '../../trainer/index.js';
import { commonOptions, printJson } from '../options.js';
import { evaluatorOptionsFrom, type ProxyConfig } from '../proxy-options.js';
import { openExistingStore, parseRunId, requireRun, withStore } from '../store-access.js';

interface ExportArgs {
  runId: string;
  trials?: string;
  format?: string;
  int8: boolean;
  out?: string;
  force: boolean;
  db: string;
  json: boolean;
  verbose: boolean;
}

/** Parses --trials: comma-separated positive trial ids. */
function parseTrialIds(value: string | undefined): number[] | undefined {
  if (value === undefined) return undefined;
  const parts = String(value).split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  const ids = parts.map(Number);
  if (parts.length === 0 || ids.some((n) => !Number.isInteger(n) || n <= 0)) {
    throw new UserError(`--trials must be trial ids separated by commas (e.g. --trials 3,7), got '${value}'. Fix: take the ids from 'greennas trials RUN_ID'.`, { subject: '--trials' });
  }
  return [...new Set(ids)];
}

/** The run's test split (the same samples its accuracy was measured on) and its validation split for INT8 calibration. */
async function runData(run: RunRecord): Promise<ExportData> {
  const proxy = run.settings.proxy as ProxyConfig | undefined;
  if (!proxy) throw new UserError(`RUN_ID ${run.id}: space ${run.space} was not trained, so there is no model to check an export on. Fix: export a run of a trained space.`, { subject: 'RUN_ID' });
  const options = evaluatorOptionsFrom(proxy, run.dataset, run.seed);
  const ds = await loadDataset(run.dataset, options.datasetOptions);
  const test = subsetSplit(ds.test, ds.task.numClasses, options.testSubset === undefined ? undefined : Math.min(options.testSubset, ds.test.count),
    createRng(`${options.datasetOptions.seed ?? 0}/test-subset`), '--test-subset', true);
  return { task: ds.task, test, calibration: ds.validation };
}

/** `greennas export RUN_ID`: writes the front's (or chosen trials') models as tfjs or ONNX files with a manifest each. */
export const exportCommand: CommandModule<object, ExportArgs> = {
  command: 'export <run-id>',
  describe: "Export a run's trained models (its front by default) as tfjs or ONNX files, each with a manifest",
  builder: (y) =>
    y.positional('run-id', { describe: 'Run id (see greennas runs)', type: 'string' })
      .options({
        trials: { type: 'string', describe: "Trial ids to export, comma-separated (default: the run's front)", requiresArg: true },
        format: { type: 'string', describe: `File format: ${EXPORT_FORMATS.join(' or ')}`, requiresArg: true, demandOption: true },
        int8: { type: 'boolean', default: false, describe: 'Also write an INT8 ONNX model (QDQ; runs on ONNX Runtime integer kernels), calibrated on the validation split' },
        out: { type: 'string', describe: 'Output folder (one sub-folder per model)', requiresArg: true, demandOption: true },
        force: { type: 'boolean', default: false, describe: 'Write into an output folder that is not empty' },
        ...commonOptions,
      }) as never,
  handler: async (args) => {
    const runId = parseRunId(args.runId);
    const format = String(args.format);
    if (!(EXPORT_FORMATS as readonly string[]).includes(format)) {
      throw new UserError(`--format must be ${EXPORT_FORMATS.join(' or ')}, got '${format}'. Fix: pass --format onnx or --format tfjs.`, { subject: '--format' });
    }
    const trialIds = parseTrialIds(args.trials);
    const logger = createStderrLogger({ verbose: args.verbose, quiet: args.json });
    await withStore(await openExistingStore(args.db), async (store) => {
      const run = await requireRun(store, runId, args.db);
      const request = { run, trialIds, format: format as ExportFormat, int8: args.int8, outDir: String(args.out), force: args.force, logger };
      // Every refusal (flags, trials, models, --out) comes before the data is loaded and anything is written.
      await checkExportRequest(store, request);
      const data = format === 'onnx' ? await runData(run) : undefined;
      // The checks run the tfjs model too: on the fastest backend here, not tfjs's plain-JS default.
      const backend = await initBackend('auto');
      logger.debug(`tfjs backend for the export checks: ${backend.name}`);
      const exported = await exportModels(store, { ...request, data });
      if (args.json) {
        printJson(exported.map((e) => ({ trialId: e.trialId, dir: e.dir, manifest: e.manifest })));
        return;
      }
      for (const e of exported) {
        const m = Object.fromEntries(e.manifest.metrics.map((x) => [x.name, x.value]));
        const extra = ['accuracy', 'accuracy.onnx', 'accuracy.onnx.int8', 'latency.onnx.cpu', 'latency.onnx.cpu.int8'].filter((k) => m[k] !== undefined).map((k) => `${k}=${Number(m[k]).toFixed(4)}`);
        process.stdout.write(`trial ${e.trialId}\t${e.dir}\t${Object.values(e.manifest.files).join(',')}\t${extra.join(' ')}\n`);
      }
    });
  },
};
