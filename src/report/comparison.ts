import type { MetricValue } from '../core/index.js';
import type { RunRecord, TrialRecord } from '../store/index.js';

/*
 * The seed paper's comparison table, from what a run's store holds: the search front, compressed
 * models and baselines side by side, with the change of each model against each baseline. Every
 * figure keeps its provenance: an energy or time extrapolated from a few measured steps is marked.
 */

/** Joules in one kilowatt-hour. */
const JOULES_PER_KWH = 3.6e6;

/** Names of compare's side-by-side inference metrics (batch 1), which the table prefers over a trial's own probe. */
export const SIDE_BY_SIDE = { latency: 'latency.cpu.compare', energy: 'energy.infer.compare' } as const;

/** What a trial is in the comparison: a front member, a compressed model, or a baseline (trained at proxy scale, or measured at full size for a few steps and extrapolated). */
export type ComparisonRole = 'front' | 'compressed' | 'baseline';

/** Grid intensity and facility overhead used to turn joules into grams CO2e (resolved by the caller from the run's energy settings). */
export interface CarbonBasis {
  /** Grams CO2e per kWh. */
  intensityGPerKwh: number;
  /** Power usage effectiveness (≥ 1). */
  pue: number;
  /** Where the intensity comes from (region table row, or --carbon-intensity). */
  source: string;
}

/** One model of the comparison table. */
export interface ComparisonRow {
  /** Trial id in the store. */
  trialId: number;
  /** Role in the comparison. */
  role: ComparisonRole;
  /** Display name (architecture label). */
  name: string;
  /** Trainable parameters. */
  params?: number;
  /** Multiply-adds per sample. */
  macs?: number;
  /** Training energy in joules (whole budget). */
  trainEnergyJ?: number;
  /** The same in kWh. */
  trainEnergyKwh?: number;
  /** Provenance of the training energy (counter, polled, estimated). */
  trainEnergySource?: string;
  /** Training wall time in seconds. */
  trainSeconds?: number;
  /** Energy per inference at batch 1, in joules. */
  inferEnergyJ?: number;
  /** Provenance of the inference energy (counter, polled, estimated). */
  inferEnergySource?: string;
  /** Whether inference energy and latency come from compare's side-by-side probe (else from where the model was trained or compressed). */
  inferSideBySide?: boolean;
  /** Test accuracy (fraction); absent when not measured (an extrapolated full-size baseline). */
  accuracy?: number;
  /** Median latency at batch 1 in ms. */
  latencyMs?: number;
  /** Energy-to-accuracy ratio: training joules per accuracy point (percentage point of test accuracy). */
  energyPerPointJ?: number;
  /** Grams CO2e of the training energy: kWh × PUE × intensity. */
  carbonG?: number;
  /** Set when training energy and time were extrapolated: from a few measured steps, or from a proxy-scale model by multiply-adds. */
  extrapolated?: { method: 'per-step' | 'macs-ratio'; measuredSteps: number; plannedSteps: number; fromTrialId?: number };
}

/** The change of one model against one baseline: percentages of the baseline's value, accuracy in points. */
export interface ComparisonDelta {
  /** Trial id of the model. */
  trialId: number;
  /** Trial id of the baseline. */
  baselineTrialId: number;
  /** Relative change in % ((model − baseline) / baseline × 100); absent where either value is. */
  paramsPct?: number;
  macsPct?: number;
  trainEnergyPct?: number;
  trainSecondsPct?: number;
  inferEnergyPct?: number;
  energyPerPointPct?: number;
  carbonPct?: number;
  /** Test accuracy difference in percentage points. */
  accuracyPoints?: number;
}

/** The whole comparison. */
export interface Comparison {
  /** Run id. */
  runId: number;
  /** Dataset of the run. */
  dataset: string;
  /** Rows: front first (by accuracy, best first), then compressed models, then baselines. */
  rows: ComparisonRow[];
  /** Every non-baseline row against every baseline row. */
  deltas: ComparisonDelta[];
  /** Carbon conversion used. */
  carbon: CarbonBasis;
}

/** What a trial needs beyond the v2 store fields to be placed in the comparison. */
export type TrialKind = 'search' | 'compressed' | 'baseline';

/** Reads a trial's kind (stores before migration 3 have search trials only). */
export function trialKind(t: TrialRecord): TrialKind {
  return ((t as TrialRecord & { kind?: TrialKind }).kind ?? 'search');
}

function metric(t: TrialRecord, name: string): MetricValue | undefined {
  return t.metrics.find((m) => m.name === name);
}

function value(t: TrialRecord, name: string): number | undefined {
  const v = metric(t, name)?.value;
  return v === undefined || !Number.isFinite(v) ? undefined : v;
}

/** The batch-1 latency metric of a trial: `latency.cpu` for trained spaces, else the first `latency.*` without a batch suffix. */
export function latencyMetric(t: TrialRecord): MetricValue | undefined {
  return metric(t, 'latency.cpu') ?? t.metrics.find((m) => m.name.startsWith('latency') && !/\.b\d+$/.test(m.name));
}

/** Builds one row from a complete trial. */
export function comparisonRow(t: TrialRecord, role: ComparisonRole, name: string, carbon: CarbonBasis): ComparisonRow {
  const trainEnergy = metric(t, 'energy.train');
  const accuracy = value(t, 'accuracy');
  // compare's side-by-side probe (every model of the table timed in one session) wins over the trial's own.
  const sideBySide = value(t, SIDE_BY_SIDE.energy) !== undefined;
  const inferName = sideBySide ? SIDE_BY_SIDE.energy : 'energy.infer';
  const trainEnergyJ = trainEnergy && Number.isFinite(trainEnergy.value) ? trainEnergy.value : undefined;
  const detail = trainEnergy?.detail as { extrapolated?: boolean; method?: 'per-step' | 'macs-ratio'; measuredSteps?: number; plannedSteps?: number; fromTrialId?: number } | undefined;
  const row: ComparisonRow = {
    trialId: t.id, role, name,
    params: value(t, 'params'), macs: value(t, 'macs'),
    trainEnergyJ, trainEnergySource: trainEnergy?.source,
    trainSeconds: value(t, 'train.seconds'), inferEnergyJ: value(t, inferName), inferEnergySource: metric(t, inferName)?.source,
    accuracy, latencyMs: value(t, SIDE_BY_SIDE.latency) ?? latencyMetric(t)?.value,
  };
  if (sideBySide) row.inferSideBySide = true;
  if (trainEnergyJ !== undefined) {
    row.trainEnergyKwh = trainEnergyJ / JOULES_PER_KWH;
    row.carbonG = row.trainEnergyKwh * carbon.pue * carbon.intensityGPerKwh;
    if (accuracy !== undefined && accuracy > 0) row.energyPerPointJ = trainEnergyJ / (accuracy * 100);
  }
  if (detail?.extrapolated) {
    row.extrapolated = { method: detail.method ?? 'per-step', measuredSteps: detail.measuredSteps ?? Number.NaN, plannedSteps: detail.plannedSteps ?? Number.NaN };
    if (detail.fromTrialId !== undefined) row.extrapolated.fromTrialId = detail.fromTrialId;
  }
  return row;
}

function pct(model: number | undefined, base: number | undefined): number | undefined {
  if (model === undefined || base === undefined || base === 0) return undefined;
  return ((model - base) / base) * 100;
}

/** The change of `row` against `baseline`. */
export function compareRows(row: ComparisonRow, baseline: ComparisonRow): ComparisonDelta {
  const d: ComparisonDelta = { trialId: row.trialId, baselineTrialId: baseline.trialId };
  const set = <K extends keyof ComparisonDelta>(k: K, v: ComparisonDelta[K] | undefined) => {
    if (v !== undefined) d[k] = v;
  };
  set('paramsPct', pct(row.params, baseline.params));
  set('macsPct', pct(row.macs, baseline.macs));
  set('trainEnergyPct', pct(row.trainEnergyJ, baseline.trainEnergyJ));
  set('trainSecondsPct', pct(row.trainSeconds, baseline.trainSeconds));
  set('inferEnergyPct', pct(row.inferEnergyJ, baseline.inferEnergyJ));
  set('energyPerPointPct', pct(row.energyPerPointJ, baseline.energyPerPointJ));
  set('carbonPct', pct(row.carbonG, baseline.carbonG));
  if (row.accuracy !== undefined && baseline.accuracy !== undefined) d.accuracyPoints = (row.accuracy - baseline.accuracy) * 100;
  return d;
}

/** Inputs of buildComparison. */
export interface ComparisonSource {
  /** The run. */
  run: RunRecord;
  /** Every trial of the run (search, compressed and baseline). */
  trials: readonly TrialRecord[];
  /** Ids of the run's front. */
  frontIds: readonly number[];
  /** Carbon conversion. */
  carbon: CarbonBasis;
  /** Display name of a trial's architecture. */
  label: (t: TrialRecord) => string;
}

/**
 * The trials of the comparison table by role: complete front members, complete compressed models,
 * and the latest complete trial of each baseline architecture (a baseline trained again with
 * compare --retrain replaces the earlier one).
 */
export function comparisonTrials(trials: readonly TrialRecord[], frontIds: readonly number[]): Record<ComparisonRole, TrialRecord[]> {
  const front = new Set(frontIds);
  const complete = trials.filter((t) => t.state === 'complete');
  const latest = new Map<string, TrialRecord>();
  for (const t of complete) if (trialKind(t) === 'baseline') latest.set(JSON.stringify(t.arch), t);
  return {
    front: complete.filter((t) => trialKind(t) === 'search' && front.has(t.id)),
    compressed: complete.filter((t) => trialKind(t) === 'compressed'),
    baseline: [...latest.values()],
  };
}

/** Builds the comparison table: complete front members, compressed models and baselines, and every model's change against every baseline. */
export function buildComparison(src: ComparisonSource): Comparison {
  const picked = comparisonTrials(src.trials, src.frontIds);
  const byAccuracy = (a: ComparisonRow, b: ComparisonRow) => (b.accuracy ?? -1) - (a.accuracy ?? -1) || a.trialId - b.trialId;
  const rowsOf = (role: ComparisonRole) => picked[role].map((t) => comparisonRow(t, role, src.label(t), src.carbon));
  const frontRows = rowsOf('front').sort(byAccuracy);
  const compressed = rowsOf('compressed').sort(byAccuracy);
  const baselines = rowsOf('baseline').sort((a, b) => a.name.localeCompare(b.name) || a.trialId - b.trialId);
  const deltas: ComparisonDelta[] = [];
  for (const row of [...frontRows, ...compressed]) for (const b of baselines) deltas.push(compareRows(row, b));
  return { runId: src.run.id, dataset: src.run.dataset, rows: [...frontRows, ...compressed, ...baselines], deltas, carbon: src.carbon };
}
