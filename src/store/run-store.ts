import type { MetricValue, ModelArtifact, SerializedError } from '../core/index.js';

/** Lifecycle of a run. `running` after a crash means the process died; `--resume` picks it up. */
export type RunState = 'running' | 'complete' | 'failed' | 'interrupted';

/** Lifecycle of a trial. */
export type TrialState = 'running' | 'complete' | 'failed';

/**
 * What a trial is: `search` (proposed and evaluated by the study; the only kind it replays, counts
 * and puts on the front), `compressed` (a search trial's model after compression steps) or
 * `baseline` (a reference architecture measured for comparison).
 */
export type TrialKind = 'search' | 'compressed' | 'baseline';

/** One compression step applied to a parent trial's model, with the settings it ran with. */
export interface TrialStep {
  /** Step name, e.g. `prune`, `quantize`, `distill`. */
  name: string;
  /** The settings it ran with (plain JSON). */
  settings: Record<string, unknown>;
  /** What it reported (plain JSON), e.g. the sparsity reached. */
  detail?: Record<string, unknown>;
}

/** What startTrial records. */
export interface NewTrial {
  /**
   * Position in the run's evaluation order. Required for `search` trials; other kinds may leave it
   * out and get the next free negative position, so they never take a position a resumed search needs.
   */
  seq?: number;
  /** The de-duplication key, unique within the run (a compressed trial needs its own, e.g. `<parent key>#int8`). */
  key: string;
  /** The architecture JSON. */
  arch: unknown;
  /** ISO start time (default: now). */
  startedAt?: string;
  /** Trial kind (default `search`). */
  kind?: TrialKind;
  /** The trial this one was derived from (compressed trials). */
  parentTrialId?: number;
  /** Compression steps applied to the parent's model, in order. */
  steps?: TrialStep[];
}

/** What is fixed when a run is created. */
export interface NewRun {
  /** Space id (built-in name or plug-in path as given). */
  space: string;
  /** The space's version string. */
  spaceVersion: string;
  /** Dataset id. */
  dataset: string;
  /** Strategy id. */
  strategy: string;
  /** Seed of every random choice. */
  seed: number;
  /** Planned number of evaluations. */
  budget: number;
  /** Objective names in order. */
  objectives: string[];
  /** Everything needed to rebuild the search on --resume (the validated CLI settings). */
  settings: Record<string, unknown>;
  /** Versions of greennas, Node, tfjs… */
  versions: Record<string, string>;
  /** Compute backend used for evaluation (`table` for benchmark lookups). */
  backend: string;
  /** Host name of the machine that created the run. */
  host: string;
}

/** A stored run. */
export interface RunRecord extends NewRun {
  /** Run id. */
  id: number;
  /** Current state. */
  state: RunState;
  /** ISO time of creation. */
  createdAt: string;
  /** ISO time of the last change. */
  updatedAt: string;
  /** Failure or interruption reason, when there is one. */
  reason?: string;
}

/** A stored trial. */
export interface TrialRecord {
  /** Trial id, unique in the store. */
  id: number;
  /** Run the trial belongs to. */
  runId: number;
  /** Position in evaluation (ask) order within the run, from 0. */
  seq: number;
  /** Order in which its outcome was told to the strategy, from 0; null while running. */
  tellSeq: number | null;
  /** The space's de-duplication key. */
  key: string;
  /** The architecture JSON. */
  arch: unknown;
  /** Current state. */
  state: TrialState;
  /** Why it failed (error name, code, message). */
  error?: SerializedError;
  /** Metrics with unit and source (empty unless complete). */
  metrics: MetricValue[];
  /** ISO start time. */
  startedAt: string;
  /** ISO end time. */
  finishedAt?: string;
  /** Wall time of the evaluation. */
  durationMs?: number;
  /** Backend that evaluated it. */
  backend?: string;
  /** Worker / host that evaluated it. */
  worker?: string;
  /** What the trial is (`search` for every trial of schema 2 and before). */
  kind: TrialKind;
  /** The trial it was derived from, when it was. */
  parentTrialId?: number;
  /** Compression steps applied to the parent's model, when any. */
  steps?: TrialStep[];
}

/** The outcome of an evaluation, to be stored. */
export interface TrialResult {
  /** `complete` with metrics, or `failed` with an error. */
  state: 'complete' | 'failed';
  /** Metrics for a complete trial. */
  metrics?: MetricValue[];
  /** Reason for a failed trial. */
  error?: SerializedError;
  /** Wall time of the evaluation. */
  durationMs: number;
  /** Position in the order outcomes were told to the strategy. */
  tellSeq: number;
  /** Backend that evaluated it. */
  backend?: string;
  /** Worker / host that evaluated it. */
  worker?: string;
}

/** What a worker is doing right now: one evaluation job. */
export interface WorkerJob {
  /** Run the job belongs to. */
  runId: number;
  /** Trial position in the run. */
  seq: number;
  /** Queue job id. */
  jobId: string;
  /** Which attempt of the job this is (0 for the first; retries after a lost worker count up). */
  attempt: number;
}

/** A worker process's heartbeat: who it is and what it runs. */
export interface WorkerBeat {
  /** Unique id of the worker process (host, pid and a random part). */
  id: string;
  /** The run it is pinned to (--run), or null when it serves every running run. */
  runId: number | null;
  /** Host name. */
  host: string;
  /** Process id on that host. */
  pid: number;
  /** Devices it evaluates on (CPU model, GPUs). */
  devices: string[];
  /** Evaluations it runs at once. */
  slots: number;
  /** Its greennas version. */
  version: string;
  /** `stopped` once it exits cleanly. */
  state: 'running' | 'stopped';
  /** Jobs in progress. */
  current: WorkerJob[];
  /** ISO time it started. */
  startedAt: string;
  /** Seconds between its heartbeats. */
  heartbeatS: number;
}

/** A stored worker, with the age of its last heartbeat measured on the store's clock (no clock skew between hosts). */
export interface WorkerRecord extends WorkerBeat {
  /** ISO time of the last heartbeat. */
  heartbeatAt: string;
  /** Seconds since the last heartbeat. */
  heartbeatAgeS: number;
}

/**
 * Where runs, trials and fronts live. Every method is async so that a networked implementation
 * (PostgreSQL, for many machines sharing one search) fits the same contract as SQLite.
 */
export interface RunStore {
  /** Creates a run in state `running`. */
  createRun(run: NewRun): Promise<RunRecord>;
  /** A run by id, or undefined. */
  getRun(runId: number): Promise<RunRecord | undefined>;
  /** All runs, newest first. */
  listRuns(): Promise<RunRecord[]>;
  /** Sets a run's state (and reason). */
  setRunState(runId: number, state: RunState, reason?: string): Promise<void>;
  /** Records that evaluation of an architecture started; seq and key are unique within the run. */
  startTrial(runId: number, trial: NewTrial): Promise<TrialRecord>;
  /** Records a trial's outcome and, atomically, the run's new front. */
  finishTrial(trialId: number, result: TrialResult, front?: { runId: number; trialIds: number[] }): Promise<void>;
  /** A trial by id. */
  getTrial(trialId: number): Promise<TrialRecord | undefined>;
  /** A run's trials in evaluation order. */
  listTrials(runId: number): Promise<TrialRecord[]>;
  /**
   * Adds metrics to a complete trial, replacing any of the same name (a later re-measurement, such
   * as compare's side-by-side inference probe); the trial's state and its other metrics stay.
   */
  setMetrics(trialId: number, metrics: readonly MetricValue[]): Promise<void>;
  /** Stores (or replaces) a trial's trained model. */
  saveModel(trialId: number, artifact: ModelArtifact): Promise<void>;
  /** A trial's stored model, or undefined when none was stored (failed, pruned, table-evaluated). */
  getModel(trialId: number): Promise<ModelArtifact | undefined>;
  /** Ids of the trials on a run's current front. */
  getFrontIds(runId: number): Promise<number[]>;
  /** Replaces a run's front. */
  setFront(runId: number, trialIds: number[]): Promise<void>;
  /** Records a worker's heartbeat (insert or update); the store's clock stamps it. */
  saveWorker(beat: WorkerBeat): Promise<void>;
  /** Every worker that ever sent a heartbeat, most recent heartbeat first. */
  listWorkers(): Promise<WorkerRecord[]>;
  /** Releases the connection. */
  close(): Promise<void>;
}
