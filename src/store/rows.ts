import type { MetricValue, ModelArtifact, SerializedError } from '../core/index.js';
import { GreennasError } from '../core/index.js';
import type { NewTrial, RunRecord, RunState, TrialKind, TrialRecord, TrialStep, WorkerBeat, WorkerRecord } from './run-store.js';

// Row shapes and mappers shared by the SQL stores (SQLite and PostgreSQL keep the same columns).

/** A runs row. */
export interface RunRow {
  id: number; created_at: string; updated_at: string; state: RunState; reason: string | null;
  space: string; space_version: string; dataset: string; strategy: string; seed: number; budget: number;
  objectives: string; settings: string; versions: string; backend: string; host: string;
}
/** A trials row. */
export interface TrialRow {
  id: number; run_id: number; seq: number; tell_seq: number | null; arch_key: string; arch: string;
  state: TrialRecord['state']; error: string | null; started_at: string; finished_at: string | null;
  duration_ms: number | null; backend: string | null; worker: string | null;
  kind: TrialKind; parent_trial_id: number | null; steps: string | null;
}
/** A trial_models row (both drivers return the bytes as a Buffer). */
export interface ModelRow { trial_id: number; format: string; topology: string; weight_specs: string; weight_data: Uint8Array; created_at: string }

/** Maps a trial_models row to an artifact whose bytes are its own copy (so it can be transferred to a worker). */
export function toModel(r: ModelRow): ModelArtifact {
  if (r.format !== 'tfjs-layers') throw new GreennasError(`trial ${r.trial_id}: stored model has unknown format '${r.format}'`, 'E_STORE');
  return { format: r.format, topology: JSON.parse(r.topology) as object, weightSpecs: JSON.parse(r.weight_specs) as object[], weightData: new Uint8Array(r.weight_data) };
}

/** The columns a new trial sets besides its position, checked once for both stores. */
export function newTrialColumns(trial: NewTrial): { kind: TrialKind; parent: number | null; steps: string | null } {
  const kind = trial.kind ?? 'search';
  if (kind === 'search' && trial.seq === undefined) throw new GreennasError('a search trial needs its seq (its position in the run)', 'E_STORE');
  return { kind, parent: trial.parentTrialId ?? null, steps: trial.steps ? JSON.stringify(trial.steps) : null };
}
/** A metrics row. */
export interface MetricRow { trial_id: number; name: string; value: number; unit: string; source: MetricValue['source']; detail: string | null }

/** A workers row as both SQL stores return it (age computed by the database). */
export interface WorkerRow {
  id: string; run_id: number | null; host: string; pid: number; devices: string; slots: number; version: string;
  state: WorkerBeat['state']; current: string; started_at: string; heartbeat_at: string | Date; heartbeat_s: number; age_s: number | string;
}

/** Maps a workers row to a record. */
export function toWorker(r: WorkerRow): WorkerRecord {
  return {
    id: r.id, runId: r.run_id, host: r.host, pid: r.pid, devices: JSON.parse(r.devices) as string[], slots: r.slots, version: r.version,
    state: r.state, current: JSON.parse(r.current) as WorkerBeat['current'], startedAt: r.started_at,
    heartbeatAt: r.heartbeat_at instanceof Date ? r.heartbeat_at.toISOString() : r.heartbeat_at, heartbeatS: r.heartbeat_s, heartbeatAgeS: Math.max(0, Number(r.age_s)),
  };
}

function parseJson<T>(text: string | null): T | undefined {
  return text === null ? undefined : (JSON.parse(text) as T);
}

/** Maps a runs row to a record. */
export function toRun(r: RunRow): RunRecord {
  return {
    id: r.id, createdAt: r.created_at, updatedAt: r.updated_at, state: r.state, reason: r.reason ?? undefined,
    space: r.space, spaceVersion: r.space_version, dataset: r.dataset, strategy: r.strategy, seed: r.seed, budget: r.budget,
    objectives: JSON.parse(r.objectives) as string[], settings: JSON.parse(r.settings) as Record<string, unknown>,
    versions: JSON.parse(r.versions) as Record<string, string>, backend: r.backend, host: r.host,
  };
}

/** Maps a trials row and its metrics rows to a record. */
export function toTrial(r: TrialRow, metrics: MetricRow[]): TrialRecord {
  return {
    id: r.id, runId: r.run_id, seq: r.seq, tellSeq: r.tell_seq, key: r.arch_key, arch: JSON.parse(r.arch), state: r.state,
    error: parseJson<SerializedError>(r.error), startedAt: r.started_at, finishedAt: r.finished_at ?? undefined,
    durationMs: r.duration_ms ?? undefined, backend: r.backend ?? undefined, worker: r.worker ?? undefined,
    kind: r.kind, ...(r.parent_trial_id !== null ? { parentTrialId: r.parent_trial_id } : {}), ...(r.steps !== null ? { steps: JSON.parse(r.steps) as TrialStep[] } : {}),
    metrics: metrics.map((m) => ({ name: m.name, value: m.value, unit: m.unit, source: m.source, ...(m.detail ? { detail: JSON.parse(m.detail) as Record<string, unknown> } : {}) })),
  };
}

/** A run's trials (in the order given) with their metrics attached, from one query of each. */
export function toTrials(rows: TrialRow[], metricRows: MetricRow[]): TrialRecord[] {
  const byTrial = new Map<number, MetricRow[]>();
  for (const m of metricRows) {
    const list = byTrial.get(m.trial_id);
    if (list) list.push(m);
    else byTrial.set(m.trial_id, [m]);
  }
  return rows.map((r) => toTrial(r, byTrial.get(r.id) ?? []));
}
