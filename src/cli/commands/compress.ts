import type { CommandModule } from 'yargs';
import { createRng, createStderrLogger, UserError, type Logger, type MetricValue } from '../../core/index.js';
import type { CompressPlan, CompressStepName } from '../../compress/plan.js';
import type { Int8Runtime } from '../../compress/pipeline.js';
import type { RunRecord, RunStore, TrialRecord } from '../../store/index.js';
import { commonOptions, positiveInt, printJson } from '../options.js';
import { formatNumber, renderTable } from '../format.js';
import { evaluatorOptionsFrom, openRunSession, type ProxyConfig } from '../proxy-options.js';
import type { SearchSettings } from '../search-setup.js';
import { openExistingStore, parseRunId, requireRun, withStore } from '../store-access.js';

interface CompressArgs {
  runId: string;
  trials?: string;
  steps?: string;
  prune?: string;
  dropGates?: boolean;
  channelMultiple?: string;
  sparsity?: string;
  quantize?: string;
  temperature?: string;
  alpha?: string;
  epochs?: string;
  db: string;
  json: boolean;
  verbose: boolean;
}

/** Default flag values (documented in --help). */
const DEFAULTS = { prune: 'channels', channelMultiple: 16, sparsity: 0.5, quantize: 'int8', temperature: 4, alpha: 0.7 } as const;

function fraction(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new UserError(`${flag} must be a number, got '${value}'. Fix: pass e.g. ${flag} ${fallback}.`, { subject: flag });
  return n;
}

/** Parses --trials: comma-separated trial ids. */
function parseTrialIds(value: string): number[] {
  const ids = value.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (ids.length === 0) throw new UserError(`--trials is empty. Fix: pass trial ids such as --trials 3,7 (see greennas trials RUN_ID).`, { subject: '--trials' });
  return ids.map((s) => {
    const n = Number(s);
    if (!Number.isInteger(n) || n <= 0) throw new UserError(`--trials: '${s}' is not a trial id. Fix: pass positive whole numbers such as --trials 3,7 (see greennas trials RUN_ID).`, { subject: '--trials' });
    return n;
  });
}

/** The plan from the flags, validated before anything is opened or trained (budget filled in later from the run). */
async function planFromFlags(args: CompressArgs): Promise<Omit<CompressPlan, 'budget'> & { epochs?: number }> {
  const { validateCompressPlan } = await import('../../compress/plan.js');
  if (args.steps === undefined) throw new UserError(`--steps is required. Fix: pass e.g. --steps prune,distill,fold (any of prune, distill, fold, quantize, in order).`, { subject: '--steps' });
  const steps = args.steps.split(',').map((s) => s.trim()).filter((s) => s.length > 0) as CompressStepName[];
  const plan = {
    steps,
    prune: {
      method: (args.prune ?? DEFAULTS.prune) as CompressPlan['prune']['method'], sparsity: fraction('--sparsity', args.sparsity, DEFAULTS.sparsity),
      ...(args.dropGates ? { dropGates: true } : {}),
      ...(args.channelMultiple !== undefined ? { multipleOf: positiveInt('--channel-multiple', args.channelMultiple) }
        : (args.prune ?? DEFAULTS.prune) === 'channels' ? { multipleOf: DEFAULTS.channelMultiple } : {}),
    },
    quantize: (args.quantize ?? DEFAULTS.quantize) as CompressPlan['quantize'],
    distill: { temperature: fraction('--temperature', args.temperature, DEFAULTS.temperature), alpha: fraction('--alpha', args.alpha, DEFAULTS.alpha) },
    budget: { epochs: 1, batchSize: 1, optimizer: 'adam' as const, learningRate: 1, seed: 0 },
  };
  validateCompressPlan(plan);
  // Flags for steps that are not applied are still checked above, but a flag for an absent step is a mistake worth naming.
  const unused = ([['--prune', 'prune', args.prune], ['--drop-gates', 'prune', args.dropGates || undefined], ['--channel-multiple', 'prune', args.channelMultiple], ['--sparsity', 'prune', args.sparsity], ['--quantize', 'quantize', args.quantize], ['--temperature', 'distill', args.temperature], ['--alpha', 'distill', args.alpha]] as const)
    .find(([, step, v]) => v !== undefined && !steps.includes(step));
  if (unused) throw new UserError(`${unused[0]} applies to the ${unused[1]} step, which --steps does not include. Fix: add ${unused[1]} to --steps or drop ${unused[0]}.`, { subject: unused[0] });
  const { budget: _unused, ...rest } = plan;
  return { ...rest, epochs: args.epochs === undefined ? undefined : positiveInt('--epochs', args.epochs) };
}

function metric(t: { metrics: MetricValue[] } | MetricValue[], name: string): MetricValue | undefined {
  return (Array.isArray(t) ? t : t.metrics).find((m) => m.name === name);
}

/** Picks the trials to compress: --trials, else the run's front; each must be complete with a stored model. */
async function selectParents(store: RunStore, run: RunRecord, ids: number[] | undefined, db: string): Promise<TrialRecord[]> {
  const trials = await store.listTrials(run.id);
  const byId = new Map(trials.map((t) => [t.id, t]));
  const chosen = ids ?? (await store.getFrontIds(run.id));
  if (chosen.length === 0) throw new UserError(`run ${run.id} has no front yet (no complete trial). Fix: finish the search first (greennas search --resume ${run.id}).`, { subject: 'RUN_ID' });
  const out: TrialRecord[] = [];
  for (const id of chosen) {
    const t = byId.get(id);
    if (!t) throw new UserError(`--trials ${id}: run ${run.id} has no trial ${id}. Fix: pick ids from 'greennas trials ${run.id} --db ${db}'.`, { subject: '--trials' });
    if (t.state !== 'complete') throw new UserError(`--trials ${id}: that trial is ${t.state}, so it has no trained model. Fix: pick a complete trial.`, { subject: '--trials' });
    out.push(t);
  }
  const missing: number[] = [];
  for (const t of out) if (!(await store.getModel(t.id))) missing.push(t.id);
  if (missing.length === out.length) {
    throw new UserError(`run ${run.id} has no trained model stored for trial${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (runs made before models were stored, or a table-evaluated space). Fix: run a new search with a trained space (e.g. greennas search --space mobilenet), then compress it.`, { subject: 'RUN_ID' });
  }
  if (missing.length > 0) throw new UserError(`trial${missing.length > 1 ? 's' : ''} ${missing.join(', ')} of run ${run.id} ha${missing.length > 1 ? 've' : 's'} no stored model. Fix: leave ${missing.length > 1 ? 'them' : 'it'} out with --trials.`, { subject: '--trials' });
  return out;
}

/** The run's most accurate search trial with a stored model (validation accuracy: test accuracy is never used to choose). */
async function chooseTeacher(store: RunStore, runId: number): Promise<TrialRecord | undefined> {
  const acc = (t: TrialRecord) => metric(t, 'accuracy.val')?.value ?? metric(t, 'accuracy')?.value ?? Number.NEGATIVE_INFINITY;
  const candidates = (await store.listTrials(runId)).filter((t) => t.kind === 'search' && t.state === 'complete').sort((a, b) => acc(b) - acc(a));
  for (const t of candidates) if (await store.getModel(t.id)) return t;
  return undefined;
}

/** A stable, unique key for the compressed trial: the parent's key and the steps with their settings. */
function compressedKey(parent: TrialRecord, plan: CompressPlan, taken: Set<string>): string {
  const parts = plan.steps.map((s) => (s === 'prune' ? `prune-${plan.prune.method}${plan.prune.dropGates ? '-gates' : ''}-${plan.prune.sparsity}` : s === 'quantize' ? plan.quantize : s === 'fold' ? 'fold' : `distill-T${plan.distill.temperature}-a${plan.distill.alpha}`));
  const base = `${parent.key}#${parts.join('+')}+e${plan.budget.epochs}`;
  let key = base;
  for (let n = 2; taken.has(key); n++) key = `${base}~${n}`;
  taken.add(key);
  return key;
}

interface CompressedRow {
  parentTrialId: number;
  trialId: number;
  key: string;
  steps: { name: string; settings: Record<string, unknown>; detail: Record<string, unknown> }[];
  metrics: MetricValue[];
  parentMetrics: MetricValue[];
  parentOnnxMetrics?: MetricValue[];
}

function compareTable(rows: CompressedRow[]): string {
  const arrow = (p: number | undefined, c: number | undefined, scale = 1) => `${formatNumber(p === undefined ? undefined : p * scale)} → ${formatNumber(c === undefined ? undefined : c * scale)}`;
  let int8 = false;
  let estimated = false;
  const body = rows.map((r) => {
    const v = (n: string) => metric(r.metrics, n)?.value;
    const p = (n: string) => {
      const m = metric(r.metrics, n);
      // INT8 runs in ONNX Runtime: its latency and energy are compared with the float32 parent in that runtime.
      const onnx = m?.detail?.['onnxFloat32'];
      if (typeof onnx === 'number') int8 = true;
      return typeof onnx === 'number' ? onnx : metric(r.parentMetrics, n)?.value;
    };
    if (metric(r.metrics, 'energy.infer')?.source === 'estimated') estimated = true;
    const accP = metric(r.parentMetrics, 'accuracy')?.value;
    const accC = v('accuracy');
    const eP = p('energy.infer');
    const eC = v('energy.infer');
    return [
      String(r.parentTrialId), String(r.trialId), r.steps.map((s) => s.name === 'prune' ? `prune:${s.settings['method']}${s.settings['dropGates'] ? '+gates' : ''}@${s.settings['sparsity']}` : s.name === 'quantize' ? String(s.settings['format']) : s.name).join('+'),
      arrow(accP, accC, 100), accP !== undefined && accC !== undefined ? ((accC - accP) * 100).toFixed(2) : '-',
      arrow(eP, eC, 1000) + (estimated ? '~' : ''), eP && eC !== undefined ? `${(((eC - eP) / eP) * 100).toFixed(1)}%` : '-',
      arrow(p('latency.cpu'), v('latency.cpu')), arrow(metric(r.parentMetrics, 'params')?.value, v('params')),
      arrow(metric(r.parentMetrics, 'macs')?.value, v('macs')), arrow(p('size.bytes'), v('size.bytes'), 1 / 1024),
    ];
  });
  const table = renderTable(['parent', 'trial', 'steps', 'accuracy %', 'Δ pt', 'energy/inference mJ', 'Δ energy', 'latency ms (b1)', 'params', 'macs', 'size KiB'], body);
  const notes = [
    'parent and compressed measured in this session, same meter and probe',
    ...(estimated ? ['~ estimated energy (no energy counter on this machine)'] : []),
    ...(int8 ? ['int8 rows: latency, energy and size compared with the parent as float32 ONNX in ONNX Runtime (one thread)'] : []),
  ];
  return table + notes.map((n) => `${n}\n`).join('');
}

async function compressRun(args: CompressArgs, logger: Logger): Promise<{ run: RunRecord; teacherTrialId?: number; rows: CompressedRow[] }> {
  const runId = parseRunId(args.runId);
  const trialIds = args.trials === undefined ? undefined : parseTrialIds(args.trials);
  const flags = await planFromFlags(args);
  return withStore(await openExistingStore(args.db), async (store) => {
    const run = await requireRun(store, runId, args.db);
    const settings = run.settings as unknown as SearchSettings;
    const proxy = settings.proxy as ProxyConfig | undefined;
    if (!proxy) throw new UserError(`run ${runId} looked its results up in a table (space ${run.space}): it has no trained models to compress. Fix: compress a run of a trained space (e.g. greennas search --space mobilenet).`, { subject: 'RUN_ID' });
    const parents = await selectParents(store, run, trialIds, args.db);
    const needsTeacher = flags.steps.includes('distill');
    const teacherTrial = needsTeacher ? await chooseTeacher(store, runId) : undefined;
    if (needsTeacher && !teacherTrial) throw new UserError(`distill needs a teacher, but run ${runId} has no complete search trial with a stored model. Fix: drop distill from --steps.`, { subject: '--steps' });
    const options = evaluatorOptionsFrom(proxy, settings.dataset, settings.seed);
    const plan: CompressPlan = { ...flags, budget: { ...options.settings.budget, epochs: flags.epochs ?? options.settings.budget.epochs } };
    const int8Needed = plan.steps.includes('quantize') && plan.quantize === 'int8';

    // Everything is validated; now the heavy parts (tfjs, data, meter) load.
    const tf = await import('@tensorflow/tfjs');
    const { loadModelArtifact } = await import('../../trainer/model-artifacts.js');
    const { compressModel } = await import('../../compress/pipeline.js');
    const { subsetSplit } = await import('../../data/index.js');
    // Loaded only for INT8: onnxruntime-node is a native module.
    const int8Module = int8Needed ? await import('../../compress/onnx-int8-runtime.js') : undefined;
    const { backend, ds, energy } = await openRunSession(proxy, settings.dataset, options);
    logger.info(backend.reason);
    const test = subsetSplit(ds.test, ds.task.numClasses, options.testSubset === undefined ? undefined : Math.min(options.testSubset, ds.test.count),
      createRng(`${options.datasetOptions.seed ?? 0}/test-subset`), '--test-subset', false);
    logger.info(`${ds.id}: ${ds.train.count} train / ${ds.validation.count} validation / ${test.count} test samples; meter ${energy.meter.name}`);
    const data = { train: ds.train, validation: ds.validation, test, inputShape: ds.task.inputShape, numClasses: ds.task.numClasses };
    const int8: Int8Runtime | undefined = int8Module?.onnxInt8Runtime({ meter: energy.meter, test, logger });
    const teacher = teacherTrial ? await loadModelArtifact((await store.getModel(teacherTrial.id))!) : undefined;
    const taken = new Set((await store.listTrials(runId)).map((t) => t.key));
    const rows: CompressedRow[] = [];
    try {
      for (const parent of parents) {
        const label = `run-${runId}/trial-${parent.id}/compress`;
        logger.info(`trial ${parent.id}: ${plan.steps.join(' → ')}`);
        const model = await loadModelArtifact((await store.getModel(parent.id))!);
        const t0 = performance.now();
        try {
          const parentTraining = { energy: metric(parent, 'energy.train'), seconds: metric(parent, 'train.seconds')?.value };
          const outcome = await compressModel(model, plan, { data, meter: energy.meter, backend: backend.name, teacher, teacherTrialId: teacherTrial?.id, int8, logger, label, parentTraining });
          const record = await store.startTrial(runId, {
            key: compressedKey(parent, plan, taken), arch: parent.arch, kind: 'compressed', parentTrialId: parent.id,
            steps: outcome.steps.map((s) => ({ name: s.name, settings: s.settings, detail: s.detail })),
          });
          await store.saveModel(record.id, outcome.artifact);
          await store.finishTrial(record.id, { state: 'complete', metrics: outcome.metrics, durationMs: performance.now() - t0, tellSeq: record.seq, backend: backend.name, worker: 'compress' });
          rows.push({ parentTrialId: parent.id, trialId: record.id, key: record.key, steps: outcome.steps, metrics: outcome.metrics, parentMetrics: outcome.parentMetrics, parentOnnxMetrics: outcome.parentOnnxMetrics });
          logger.info(`trial ${parent.id} → compressed trial ${record.id} stored`);
        } finally {
          model.dispose();
        }
      }
    } finally {
      teacher?.dispose();
      await energy.meter.close?.();
    }
    logger.debug(`tensors left: ${tf.memory().numTensors}`);
    return { run, teacherTrialId: teacherTrial?.id, rows };
  });
}

/** `greennas compress RUN_ID`: prunes, quantizes and/or distils a run's front models, re-measures and stores them. */
export const compressCommand: CommandModule<object, CompressArgs> = {
  command: 'compress <run-id>',
  describe: "Compress a run's front models (prune, quantize, distill), re-measure them and store them as linked trials",
  builder: (y) => y.positional('run-id', { describe: 'Run id (see greennas runs)', type: 'string' })
    .options({
      trials: { type: 'string', describe: 'Comma-separated trial ids to compress (default: the run\'s front)', requiresArg: true },
      steps: { type: 'string', describe: 'Steps in the order to apply them: some of prune, distill, fold (batch norms and ReLUs into the convolution before them), quantize (e.g. prune,distill,fold)', requiresArg: true },
      prune: { type: 'string', describe: `Pruning: channels (structured: removes channels, so params and MACs drop) or magnitude (global unstructured, zeros kept fixed) (default ${DEFAULTS.prune})`, requiresArg: true },
      'drop-gates': { type: 'boolean', describe: 'With --prune channels: first remove every squeeze-and-excitation gate (pool, dense layers and multiply), as whole modules' },
      'channel-multiple': { type: 'string', describe: `With --prune channels: kept channel counts are rounded to a multiple of this; ONNX Runtime's CPU convolutions work in blocks of 8 (AVX2) or 16 (AVX-512), and odd counts ran up to 2x slower here (default ${DEFAULTS.channelMultiple}; 1 = no rounding)`, requiresArg: true },
      sparsity: { type: 'string', describe: `Fraction pruned, in [0, 1) (default ${DEFAULTS.sparsity})`, requiresArg: true },
      quantize: { type: 'string', describe: `Post-training quantization: fp16 (weights rounded, stored as float16) or int8 (ONNX Runtime, per-channel weights, calibrated activations) (default ${DEFAULTS.quantize})`, requiresArg: true },
      temperature: { type: 'string', describe: `Distillation softmax temperature T > 0 (default ${DEFAULTS.temperature})`, requiresArg: true },
      alpha: { type: 'string', describe: `Distillation weight α of the soft-target term, in [0, 1] (default ${DEFAULTS.alpha})`, requiresArg: true },
      epochs: { type: 'string', describe: "Epochs of each fine-tuning / distillation pass (default: the run's proxy epochs)", requiresArg: true },
      ...commonOptions,
    }) as never,
  handler: async (args) => {
    const logger = createStderrLogger({ verbose: args.verbose, quiet: args.json });
    const { run, teacherTrialId, rows } = await compressRun(args, logger);
    if (args.json) {
      const values = (ms: MetricValue[]) => Object.fromEntries(ms.map((m) => [m.name, m.value]));
      printJson({
        runId: run.id, teacherTrialId,
        results: rows.map((r) => ({
          parentTrialId: r.parentTrialId, trialId: r.trialId, key: r.key, steps: r.steps,
          metrics: values(r.metrics), parentMetrics: values(r.parentMetrics), ...(r.parentOnnxMetrics ? { parentOnnxFloat32Metrics: values(r.parentOnnxMetrics) } : {}),
          provenance: Object.fromEntries(r.metrics.map((m) => [m.name, { unit: m.unit, source: m.source, detail: m.detail }])),
        })),
      });
      return;
    }
    process.stdout.write(compareTable(rows));
  },
};
