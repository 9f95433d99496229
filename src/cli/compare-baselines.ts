import { fileURLToPath } from 'node:url';
import { serializeError, UserError, type Logger, type MetricValue } from '../core/index.js';
import { canonicalJson } from '../space/index.js';
import type { RunRecord, RunStore, TrialRecord } from '../store/index.js';
import type { ProxyConfig } from './proxy-options.js';
import { evaluatorOptionsFrom } from './proxy-options.js';

/*
 * The training half of `greennas compare`: trains the baselines that fit a run's dataset on the same
 * data, budget, backend and meter as the run's trials (the proxy-trial machinery, through the
 * baseline space), and stores them in the run as trials of kind `baseline`. A full-size baseline too
 * slow to train here is trained for a few steps and its energy and time per step extrapolated to the
 * run's planned steps; with no steps measured (or when that fails) it is scaled from the proxy-scale
 * baseline by the ratio of multiply-adds. Extrapolated figures are stored with source `estimated`.
 */

/** Options of compareBaselines. */
export interface CompareBaselinesOptions {
  /** Store holding the run. */
  store: RunStore;
  /** The run (a trained-space run with proxy settings). */
  run: RunRecord;
  /** Baselines to train; default: those that fit the dataset's kind. */
  models?: readonly string[];
  /** Steps the full-size baselines are trained for before extrapolating; 0 scales them from the proxy by multiply-adds; default per kind (FULL_STEPS_DEFAULT). */
  fullSteps?: number;
  /** Train again even where a complete baseline trial exists. */
  retrain: boolean;
  /** Progress on stderr. */
  logger: Logger;
}

/** What compareBaselines did for each baseline architecture. */
export interface BaselineOutcome {
  /** Architecture label. */
  label: string;
  /** `trained`, `reused` (a complete trial existed), `extrapolated` or `failed`. */
  outcome: 'trained' | 'reused' | 'extrapolated' | 'failed';
  /** Trial id, when one was stored or reused. */
  trialId?: number;
  /** Failure reason. */
  reason?: string;
}

const KEY_PREFIX = 'baseline:';

/**
 * Default steps a full-size baseline is measured for, by task kind. Text: none, because full-size
 * BERT-base and DistilBERT at sequence 256 aborted the wasm backend here (one DistilBERT step at
 * batch 8 ran 4.5 minutes and aborted), so they are scaled from the proxy by multiply-adds.
 */
export const FULL_STEPS_DEFAULT: Readonly<Record<'image' | 'text', number>> = { image: 3, text: 0 };

/** The baseline space's module path, for the worker threads. */
function baselineSpaceModule(): string {
  return fileURLToPath(new URL('../baselines/baseline-space.js', import.meta.url));
}

function keyOf(arch: unknown, variant = ''): string {
  return `${KEY_PREFIX}${canonicalJson(arch as never)}${variant}`;
}

/** A fresh key for `base`: trials are never deleted, so a retrain gets `#2`, `#3`… */
function freshKey(trials: readonly TrialRecord[], base: string): string {
  const keys = new Set(trials.map((t) => t.key));
  if (!keys.has(base)) return base;
  for (let n = 2; ; n++) if (!keys.has(`${base}#${n}`)) return `${base}#${n}`;
}

function latestComplete(trials: readonly TrialRecord[], base: string): TrialRecord | undefined {
  const variant = /^(~macs)?(#\d+)?$/;
  return trials.filter((t) => t.kind === 'baseline' && t.state === 'complete' && t.key.startsWith(base) && variant.test(t.key.slice(base.length))).sort((a, b) => b.id - a.id)[0];
}

function num(metrics: readonly MetricValue[], name: string): MetricValue | undefined {
  return metrics.find((m) => m.name === name && Number.isFinite(m.value));
}

/** Replaces a partial run's training energy and time by their per-step extrapolation to `plannedSteps`; its accuracy (after a few steps) is dropped. */
export function extrapolateBySteps(metrics: readonly MetricValue[], measuredSteps: number, plannedSteps: number): MetricValue[] {
  const scale = plannedSteps / measuredSteps;
  const out: MetricValue[] = [];
  for (const m of metrics) {
    if (m.name === 'accuracy' || m.name === 'accuracy.val') continue;
    if (m.name === 'energy.train' || m.name === 'train.seconds') {
      out.push({
        name: m.name, value: m.value * scale, unit: m.unit, source: 'estimated',
        detail: { extrapolated: true, method: 'per-step', measuredSteps, plannedSteps, measuredValue: m.value, measuredSource: m.source, measuredDetail: m.detail ?? null },
      });
    } else out.push(m);
  }
  return out;
}

/** Scales a proxy-scale baseline's training and inference energy and time by the full-size model's multiply-adds ratio (same samples and steps). */
export function extrapolateByMacs(proxy: TrialRecord, full: { params: number; macs: number }, plannedSteps: number, reason: string): MetricValue[] {
  const proxyMacs = num(proxy.metrics, 'macs')?.value;
  if (!proxyMacs) throw new Error(`baseline trial ${proxy.id} has no macs metric to scale from`);
  const ratio = full.macs / proxyMacs;
  const out: MetricValue[] = [
    { name: 'params', value: full.params, unit: 'count', source: 'computed' },
    { name: 'macs', value: full.macs, unit: 'count', source: 'computed', detail: { per: 'sample' } },
  ];
  for (const name of ['energy.train', 'train.seconds', 'energy.infer']) {
    const m = num(proxy.metrics, name);
    if (!m) continue;
    out.push({
      name, value: m.value * ratio, unit: m.unit, source: 'estimated',
      detail: { extrapolated: true, method: 'macs-ratio', fromTrialId: proxy.id, ratio, measuredSteps: 0, plannedSteps, measuredValue: m.value, measuredSource: m.source, why: reason },
    });
  }
  return out;
}

/** Trains, or extrapolates, the baselines that fit the run's dataset and stores them as `baseline` trials of the run. */
export async function compareBaselines(o: CompareBaselinesOptions): Promise<BaselineOutcome[]> {
  const proxy = o.run.settings['proxy'] as ProxyConfig | undefined;
  if (!proxy) {
    throw new UserError(`run ${o.run.id} looked its results up in a benchmark table (space ${o.run.space}); compare trains baselines on the run's data and budget, so it needs a run of a trained space. Fix: compare a run of --space mobilenet or transformer.`, { subject: 'RUN_ID' });
  }
  const { BASELINES, FULL_SIZE, PROXY_VARIANTS, baselineByName, labelBaseline } = await import('../baselines/index.js');
  const { TrainerEvaluator } = await import('../trainer/trainer-evaluator.js');
  const { plannedSteps } = await import('../trainer/proxy-training.js');
  for (const n of o.models ?? []) {
    if (!baselineByName(n)) throw new UserError(`--models: '${n}' is not a baseline. Fix: use some of ${BASELINES.map((b) => b.name).join(', ')}.`, { subject: '--models' });
  }
  const base = evaluatorOptionsFrom(proxy, o.run.dataset, o.run.seed);
  const evaluator = await TrainerEvaluator.create({ ...base, spaceModule: baselineSpaceModule(), logger: o.logger });
  const outcomes: BaselineOutcome[] = [];
  try {
    const task = evaluator.data.task;
    const names = o.models ?? BASELINES.filter((b) => b.kind === task.kind).map((b) => b.name);
    for (const n of names) {
      const def = baselineByName(n)!;
      if (def.kind !== task.kind) throw new UserError(`--models: ${n} is an ${def.kind} model and dataset ${o.run.dataset} is ${task.kind}. Fix: pick ${BASELINES.filter((b) => b.kind === task.kind).map((b) => b.name).join(', ')}.`, { subject: '--models' });
    }
    const planned = plannedSteps(base.settings.budget, evaluator.data.train.count);
    const store = o.store;
    const record = async (arch: unknown, key: string, run: () => Promise<{ metrics: MetricValue[]; worker?: string; model?: import('../core/index.js').ModelArtifact }>) => {
      const trial = await store.startTrial(o.run.id, { key, arch, kind: 'baseline' });
      const t0 = performance.now();
      try {
        const r = await run();
        await store.finishTrial(trial.id, { state: 'complete', metrics: r.metrics, durationMs: performance.now() - t0, tellSeq: trial.seq, backend: evaluator.backend, worker: r.worker });
        if (r.model) await store.saveModel(trial.id, r.model);
        return { trialId: trial.id };
      } catch (err) {
        await store.finishTrial(trial.id, { state: 'failed', error: serializeError(err), durationMs: performance.now() - t0, tellSeq: trial.seq, backend: evaluator.backend });
        return { trialId: trial.id, error: (err as Error).message };
      }
    };
    for (const n of names) {
      const def = baselineByName(n)!;
      // Proxy scale: trained on the run's whole budget.
      const proxyArch = { model: def.name, ...PROXY_VARIANTS[def.name] };
      const proxyLabel = labelBaseline(proxyArch as never);
      let trials = await store.listTrials(o.run.id);
      let proxyTrial = o.retrain ? undefined : latestComplete(trials, keyOf(proxyArch));
      if (proxyTrial) outcomes.push({ label: proxyLabel, outcome: 'reused', trialId: proxyTrial.id });
      else {
        o.logger.info(`compare: training ${proxyLabel} on ${o.run.dataset} for ${planned} steps`);
        const r = await record(proxyArch, freshKey(trials, keyOf(proxyArch)), () => evaluator.evaluate(proxyArch as never, { runId: o.run.id, seq: -1, key: keyOf(proxyArch) }));
        outcomes.push({ label: proxyLabel, outcome: r.error ? 'failed' : 'trained', trialId: r.trialId, reason: r.error });
        proxyTrial = r.error ? undefined : await store.getTrial(r.trialId);
      }
      // Full size: a few measured steps, extrapolated; or scaled from the proxy by multiply-adds.
      const fullArch = { model: def.name, ...FULL_SIZE };
      const fullLabel = labelBaseline(fullArch as never);
      trials = await store.listTrials(o.run.id);
      const existing = o.retrain ? undefined : latestComplete(trials, keyOf(fullArch));
      if (existing) {
        outcomes.push({ label: fullLabel, outcome: 'reused', trialId: existing.id });
        continue;
      }
      const fullSteps = o.fullSteps ?? FULL_STEPS_DEFAULT[def.kind];
      let why = o.fullSteps === undefined ? `full-size ${def.kind} models are not measured by default` : `--full-steps 0`;
      if (fullSteps > 0) {
        const steps = Math.min(fullSteps, planned);
        o.logger.info(steps >= planned ? `compare: training ${fullLabel} for ${planned} steps` : `compare: measuring ${fullLabel} for ${steps} of ${planned} steps (extrapolated)`);
        // Same training data and budget; the accuracy of a partial run is dropped, so it is taken on a few samples only.
        const few = steps >= planned ? {} : { testSubset: 4 * task.numClasses, datasetOptions: { ...base.datasetOptions, validationSubset: 4 * task.numClasses } };
        const partial = await TrainerEvaluator.create({
          ...base, ...few, spaceModule: baselineSpaceModule(), workers: 1, logger: o.logger,
          settings: { ...base.settings, budget: { ...base.settings.budget, maxSteps: steps } },
        });
        let r: { trialId: number; error?: string };
        try {
          r = await record(fullArch, freshKey(trials, keyOf(fullArch)), async () => {
            const res = await partial.evaluate(fullArch as never, { runId: o.run.id, seq: -1, key: keyOf(fullArch) });
            const measured = (res.metrics.find((m) => m.name === 'train.seconds')?.detail?.['steps'] as number | undefined) ?? steps;
            // --full-steps at or above the budget trains the full-size model for real: nothing to extrapolate.
            return measured >= planned ? res : { metrics: extrapolateBySteps(res.metrics, measured, planned), worker: res.worker };
          });
        } finally {
          await partial.close();
        }
        if (!r.error) {
          outcomes.push({ label: fullLabel, outcome: steps >= planned ? 'trained' : 'extrapolated', trialId: r.trialId });
          continue;
        }
        outcomes.push({ label: fullLabel, outcome: 'failed', trialId: r.trialId, reason: r.error });
        why = `measuring ${steps} steps failed: ${r.error}`;
      }
      if (!proxyTrial) {
        outcomes.push({ label: fullLabel, outcome: 'failed', reason: `no proxy-scale ${def.title} to scale from (${why})` });
        continue;
      }
      const cost = def.cost(FULL_SIZE, task);
      const source = proxyTrial;
      trials = await store.listTrials(o.run.id);
      const r = await record(fullArch, freshKey(trials, keyOf(fullArch, '~macs')), async () => ({ metrics: extrapolateByMacs(source, cost, planned, why) }));
      outcomes.push({ label: fullLabel, outcome: r.error ? 'failed' : 'extrapolated', trialId: r.trialId, reason: r.error });
    }
  } finally {
    await evaluator.close();
  }
  return outcomes;
}
