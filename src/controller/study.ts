import { createRng, GreennasError, TrialError, serializeError, type Logger, type MetricValue, type ModelArtifact, silentLogger } from '../core/index.js';
import { toLosses, type Objective } from '../objectives/objective.js';
import { dominates } from '../objectives/index.js';
import type { ArchJson, Evaluator, SearchSpace } from '../space/index.js';
import type { RunStore, TrialRecord } from '../store/index.js';
import type { StrategyDefinition } from './strategy.js';

/** How many times the study re-asks a strategy for an unseen architecture before sampling itself. */
const MAX_ASKS_PER_PROPOSAL = 200;
/** How many fresh samples it then tries before calling the space exhausted. */
const MAX_SAMPLES_PER_PROPOSAL = 2000;

/** Progress of a study, passed to onTrial after each finished trial. */
export interface StudyProgress {
  /** Trials finished (complete or failed), including replayed ones. */
  done: number;
  /** Planned trials. */
  budget: number;
  /** Trials on the current front. */
  frontSize: number;
}

/** Everything one run of the ask / evaluate / tell loop needs. */
export interface StudyOptions<A extends ArchJson> {
  /** Where trials and the front are stored. */
  store: RunStore;
  /** The run (already created; for --resume, the existing one). */
  runId: number;
  /** The space proposals come from. */
  space: SearchSpace<A>;
  /** Evaluates proposals. */
  evaluator: Evaluator<A>;
  /** The strategy; a fresh one is created from the run's seed (resume replays into it). */
  strategy: StrategyDefinition;
  /** The run's seed: the strategy's and the fallback sampler's randomness derive from it. */
  seed: number;
  /** Objectives, in the order strategies see losses. */
  objectives: readonly Objective[];
  /** Planned number of evaluations. */
  budget: number;
  /** Evaluations in flight at once (default: the evaluator's concurrency). */
  concurrency?: number;
  /** Progress and warnings. */
  logger?: Logger;
  /** Called after each trial is stored. */
  onTrial?(trial: TrialRecord, progress: StudyProgress): void;
  /** Stops asking for new trials when aborted; trials in flight finish and are stored. */
  signal?: AbortSignal;
}

/** What a study ends with. */
export interface StudyResult {
  /** Run id. */
  runId: number;
  /** Trials finished (complete + failed). */
  finished: number;
  /** Trials that failed. */
  failed: number;
  /** Trials replayed from the store instead of evaluated (resume). */
  replayed: number;
  /** Trial ids on the final front. */
  frontIds: number[];
  /** Why it stopped before the budget, if it did. */
  stoppedEarly?: 'aborted' | 'space-exhausted';
}

interface Proposal<A> {
  seq: number;
  arch: A;
  key: string;
  /** The stored row, when this proposal was already started before a crash. */
  existing?: TrialRecord;
}

interface FrontMember {
  trialId: number;
  losses: number[];
}

/** Keeps the non-dominated set incrementally: O(front) per trial instead of a full sort. */
class IncrementalFront {
  members: FrontMember[] = [];

  /** Adds a point; returns true when the front changed. */
  add(point: FrontMember): boolean {
    for (const m of this.members) if (dominates(m.losses, point.losses)) return false;
    this.members = this.members.filter((m) => !dominates(point.losses, m.losses));
    this.members.push(point);
    return true;
  }

  ids(): number[] {
    return this.members.map((m) => m.trialId).sort((a, b) => a - b);
  }
}

function metricRecord(metrics: readonly MetricValue[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of metrics) out[m.name] = m.value;
  return out;
}

/** Losses of a completed trial's metrics, or an error when a needed metric is missing or not finite. */
function lossesOf(objectives: readonly Objective[], metrics: readonly MetricValue[]): number[] {
  const rec = metricRecord(metrics);
  for (const o of objectives) {
    for (const name of o.requires) {
      if (!(name in rec)) throw new TrialError(`the evaluation returned no '${name}' metric, which objective '${o.name}' needs`, 'E_METRIC_MISSING');
    }
  }
  const losses = toLosses(objectives, rec);
  losses.forEach((v, i) => {
    if (!Number.isFinite(v)) throw new TrialError(`objective '${objectives[i]?.name}' is not a finite number (${v})`, 'E_METRIC_NAN');
  });
  return losses;
}

/**
 * Runs (or resumes) the ask / evaluate / tell loop of one run until the budget is spent.
 *
 * Resume is replay: the strategy is rebuilt from the run's seed and fed the stored proposals and
 * outcomes in the order they happened (asks interleaved with tells as the live loop does them), so it
 * ends in the same state as before the crash and proposes exactly what an uninterrupted run would
 * have. A proposal that diverges from the stored one means the space or strategy changed; that is an
 * error, never a silent mix of two searches.
 */
export async function runStudy<A extends ArchJson>(options: StudyOptions<A>): Promise<StudyResult> {
  const { store, runId, space, evaluator, objectives, budget } = options;
  const logger = options.logger ?? silentLogger;
  const concurrency = Math.max(1, options.concurrency ?? evaluator.concurrency);
  // Only the search's own trials are replayed: compressed and baseline trials of the same run are not
  // the strategy's proposals, so they must neither shift positions nor enter the search front.
  const stored = (await store.listTrials(runId)).filter((t) => t.kind === 'search');
  const storedBySeq = new Map(stored.map((t) => [t.seq, t]));
  const seen = new Set<string>();
  const rng = createRng(options.seed);
  const fallbackRng = rng.fork('fallback');
  const needed = [...new Set(objectives.flatMap((o) => o.requires))];
  const strategy = options.strategy.create<A>({ space, rng: rng.fork('strategy'), objectives, budget, isSeen: (key) => seen.has(key) });
  const front = new IncrementalFront();
  let nextSeq = 0;
  let tellSeq = 0;
  let finished = 0;
  let failed = 0;
  let exhausted = false;

  const propose = (): Proposal<A> | undefined => {
    if (nextSeq >= budget || exhausted) return undefined;
    let arch: A | undefined;
    let key = '';
    for (let i = 0; i < MAX_ASKS_PER_PROPOSAL && arch === undefined; i++) {
      const a = strategy.ask();
      const k = space.key(a);
      if (!seen.has(k)) { arch = a; key = k; }
    }
    for (let i = 0; i < MAX_SAMPLES_PER_PROPOSAL && arch === undefined; i++) {
      const a = space.sample(fallbackRng);
      const k = space.key(a);
      if (!seen.has(k)) { arch = a; key = k; }
    }
    if (arch === undefined) {
      exhausted = true;
      logger.warn(`no unseen architecture found after ${MAX_ASKS_PER_PROPOSAL + MAX_SAMPLES_PER_PROPOSAL} tries; the space looks exhausted, stopping at ${nextSeq} trials`);
      return undefined;
    }
    seen.add(key);
    const seq = nextSeq++;
    const existing = storedBySeq.get(seq);
    if (existing && existing.key !== key) {
      throw new GreennasError(
        `cannot resume run ${runId}: trial ${seq} was '${existing.key}' but the strategy now proposes '${key}'. ` +
          'The space, strategy or greennas version changed since the run started; start a new run instead.',
        'E_REPLAY_DIVERGED',
      );
    }
    return { seq, arch, key, existing };
  };

  const record = (trial: TrialRecord, losses: number[] | undefined) => {
    finished++;
    if (trial.state === 'failed') failed++;
    strategy.tell({ arch: trial.arch as A, key: trial.key, state: trial.state === 'complete' ? 'complete' : 'failed', losses });
    tellSeq++;
  };

  // --- Replay what the store already holds, in the order it happened.
  const queue: Proposal<A>[] = [];
  for (let i = 0; i < concurrency; i++) {
    const p = propose();
    if (p) queue.push(p);
  }
  const told = stored.filter((t) => t.tellSeq !== null).sort((a, b) => (a.tellSeq as number) - (b.tellSeq as number));
  for (const t of told) {
    const idx = queue.findIndex((p) => p.seq === t.seq);
    if (idx < 0) throw new GreennasError(`cannot resume run ${runId}: stored trial ${t.seq} was told before it was asked; the store is inconsistent`, 'E_REPLAY_DIVERGED');
    queue.splice(idx, 1);
    let losses: number[] | undefined;
    if (t.state === 'complete') {
      losses = lossesOf(objectives, t.metrics);
      front.add({ trialId: t.id, losses });
    }
    record(t, losses);
    const p = propose();
    if (p) queue.push(p);
  }
  const replayed = finished;
  if (replayed > 0) logger.info(`resumed run ${runId}: replayed ${replayed} finished trials`);

  // --- Live loop: keep up to `concurrency` evaluations in flight.
  const progress = (): StudyProgress => ({ done: finished, budget, frontSize: front.members.length });
  const inFlight = new Set<Promise<void>>();
  let fatal: unknown;

  const evaluateOne = async (p: Proposal<A>): Promise<void> => {
    const trial = p.existing ?? (await store.startTrial(runId, { seq: p.seq, key: p.key, arch: p.arch }));
    const started = performance.now();
    let metrics: MetricValue[] | undefined;
    let losses: number[] | undefined;
    let error: ReturnType<typeof serializeError> | undefined;
    let worker: string | undefined;
    let model: ModelArtifact | undefined;
    try {
      const out = await evaluator.evaluate(p.arch, { runId, seq: p.seq, key: p.key, needed });
      metrics = out.metrics;
      worker = out.worker;
      model = out.model;
      losses = lossesOf(objectives, metrics);
    } catch (err) {
      error = serializeError(err);
      if (!(err instanceof TrialError)) logger.debug(`trial ${p.seq} failed: ${error.stack ?? error.message}`);
    }
    const durationMs = performance.now() - started;
    let frontArg: { runId: number; trialIds: number[] } | undefined;
    if (losses && front.add({ trialId: trial.id, losses })) frontArg = { runId, trialIds: front.ids() };
    // Tell before the (asynchronous) write: with a networked store two outcomes can be in the
    // write at once, and each must keep the tell position the strategy saw, or resume would replay
    // a different order.
    const myTellSeq = tellSeq;
    const done: TrialRecord = { ...trial, state: losses ? 'complete' : 'failed', metrics: losses ? (metrics ?? []) : [], error, durationMs, tellSeq: myTellSeq, worker };
    record(done, losses);
    await store.finishTrial(
      trial.id,
      losses
        ? { state: 'complete', metrics, durationMs, tellSeq: myTellSeq, backend: evaluator.backend, worker }
        : { state: 'failed', error, durationMs, tellSeq: myTellSeq, backend: evaluator.backend, worker },
      frontArg,
    );
    // After the outcome, not with it: a crash in between leaves a complete trial without a model
    // (export says so), never a model of a trial the store does not know finished.
    if (losses && model) await store.saveModel(trial.id, model);
    options.onTrial?.(done, progress());
  };

  const launch = (p: Proposal<A>) => {
    const task = evaluateOne(p).then(
      () => {
        inFlight.delete(task);
        if (fatal === undefined && !options.signal?.aborted) {
          try {
            const next = propose();
            if (next) launch(next);
          } catch (err) {
            fatal = err;
          }
        }
      },
      (err) => {
        inFlight.delete(task);
        fatal ??= err;
      },
    );
    inFlight.add(task);
  };

  for (const p of queue) {
    if (options.signal?.aborted) break;
    launch(p);
  }
  while (inFlight.size > 0) await Promise.race(inFlight);
  if (fatal !== undefined) throw fatal;

  // The front table is derived data: rewrite it so that a resumed run's front is exact even if the
  // crash fell between a trial and its front update.
  await store.setFront(runId, front.ids());
  const result: StudyResult = { runId, finished, failed, replayed, frontIds: front.ids() };
  if (options.signal?.aborted && finished < budget) result.stoppedEarly = 'aborted';
  else if (exhausted) result.stoppedEarly = 'space-exhausted';
  return result;
}
