import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { createRng, type Logger, type MetricSpec, type MetricValue, silentLogger } from '../core/index.js';
import { loadDataset, subsetSplit, type Dataset, type LoadDatasetOptions } from '../data/index.js';
import type { ArchJson, EvaluationResult, Evaluator, TrialInfo } from '../space/index.js';
import { initBackend, type BackendInfo } from './backend.js';
import { TrainerPool } from './pool.js';
import type { ProxyData, ProxySettings, PruneRule, ProxyTrialResult } from './proxy-trial.js';
import { proxyMetricSpecs } from './proxy-metrics.js';

export { proxyMetricSpecs } from './proxy-metrics.js';

/** Objective metrics a running proxy knows, or can project linearly in steps, at a checkpoint. */
function knownAtCheckpoint(name: string): boolean {
  return name === 'params' || name === 'macs' || name === 'energy.infer' || name === 'energy.train' || name === 'train.seconds' || name.startsWith('latency.');
}

/** Dominance pruning settings: which objectives define the front, and the optimism margin. */
export interface PruneSettings {
  /** The run's objectives as metric name + direction, in order. */
  objectives: readonly { name: string; direction: 'maximize' | 'minimize' }[];
  /** Fraction added to a proxy's validation accuracy before comparing it with the front. */
  margin: number;
}

/** Options of TrainerEvaluator.create. */
export interface TrainerEvaluatorOptions {
  /** Absolute path of the space's module (workers import it). */
  spaceModule: string;
  /** Dataset id. */
  dataset: string;
  /** Dataset loader options (seed, trainSubset, validationSubset, dataDir…); loaded once, shared with workers. */
  datasetOptions: LoadDatasetOptions;
  /** Evaluate test accuracy on this many test samples (a seeded stratified subset); all when absent. */
  testSubset?: number;
  /** Worker threads (default: one per core, or one per GPU on the GPU backend). */
  workers?: number;
  /** Settings every trial shares. */
  settings: ProxySettings;
  /** Dominance pruning; off when absent. */
  prune?: PruneSettings;
  /** Progress. */
  logger?: Logger;
}

function gpuCount(): number {
  try {
    return Math.max(1, execFileSync('nvidia-smi', ['-L'], { encoding: 'utf8', timeout: 5000 }).split('\n').filter((l) => l.startsWith('GPU ')).length);
  } catch {
    return 1;
  }
}

/** Default worker count: one per GPU on the GPU backend (each bound to its device), else one per core. */
export function defaultWorkers(backend: BackendInfo['name']): number {
  return backend === 'tfjs-node-gpu' ? gpuCount() : availableParallelism();
}

/** Whether loss vector a is no worse everywhere and better somewhere (all minimised). */
function dominates(a: readonly number[], b: readonly number[]): boolean {
  let better = false;
  for (let i = 0; i < a.length; i++) {
    if ((a[i] as number) > (b[i] as number)) return false;
    if ((a[i] as number) < (b[i] as number)) better = true;
  }
  return better;
}

interface Finished {
  valAccuracy: number;
  values: Record<string, number>;
}

/**
 * Evaluates architectures by proxy training on a pool of worker threads. The dataset is loaded once
 * here on SharedArrayBuffer and handed to every trial without a copy; each worker keeps its backend,
 * meter and loaded space between trials. A trial whose worker throws, runs out of memory, diverges
 * (NaN loss) or dies fails with the reason and the pool replaces a dead worker. With pruning on, each
 * trial receives the current front (of the trials this evaluator finished) and stops when its
 * validation accuracy plus a margin cannot reach a member that is no worse on every cost objective;
 * such a trial fails with code `E_PRUNED` so that a partly trained network never enters the front.
 */
export class TrainerEvaluator implements Evaluator {
  readonly backend: string;
  readonly concurrency: number;
  /** The backend the main thread resolved (workers resolve the same preference; each trial records its own). */
  readonly backendInfo: BackendInfo;
  /** The loaded dataset (splits on shared memory). */
  readonly data: ProxyData;
  private readonly pool: TrainerPool;
  private readonly finished: Finished[] = [];
  private readonly pruneRule?: { accuracy: string; costs: string[]; margin: number };
  private readonly logger: Logger;

  private constructor(private readonly options: TrainerEvaluatorOptions, backendInfo: BackendInfo, data: ProxyData, workers: number, pruneRule: TrainerEvaluator['pruneRule']) {
    this.backendInfo = backendInfo;
    this.backend = backendInfo.name;
    this.data = data;
    this.concurrency = workers;
    this.pruneRule = pruneRule;
    this.logger = options.logger ?? silentLogger;
    this.pool = new TrainerPool({ workers });
  }

  /** Loads the dataset, resolves the backend and starts the workers. */
  static async create(options: TrainerEvaluatorOptions): Promise<TrainerEvaluator> {
    const logger = options.logger ?? silentLogger;
    const backendInfo = await initBackend(options.settings.backend);
    const workers = options.workers ?? defaultWorkers(backendInfo.name);
    const t0 = performance.now();
    const ds: Dataset = await loadDataset(options.dataset, { ...options.datasetOptions, sharedMemory: true });
    const test = subsetSplit(ds.test, ds.task.numClasses, options.testSubset === undefined ? undefined : Math.min(options.testSubset, ds.test.count),
      createRng(`${options.datasetOptions.seed ?? 0}/test-subset`), '--test-subset', true);
    logger.info(`${ds.id}: ${ds.train.count} train / ${ds.validation.count} validation / ${test.count} test samples loaded in ${((performance.now() - t0) / 1000).toFixed(1)} s (${ds.provenance.source}); ${workers} worker${workers === 1 ? '' : 's'} on ${backendInfo.name}`);
    const data: ProxyData = { task: ds.task, train: ds.train, validation: ds.validation, test };
    return new TrainerEvaluator(options, backendInfo, data, workers, TrainerEvaluator.pruneRuleFor(options.prune, logger));
  }

  private static pruneRuleFor(prune: PruneSettings | undefined, logger: Logger): TrainerEvaluator['pruneRule'] {
    if (!prune) return undefined;
    const accuracy = prune.objectives.filter((o) => o.direction === 'maximize');
    const costs = prune.objectives.filter((o) => o.direction === 'minimize');
    const unknown = costs.filter((o) => !knownAtCheckpoint(o.name));
    if (accuracy.length !== 1 || !/^accuracy(\.val)?$/.test(accuracy[0]!.name) || unknown.length > 0) {
      logger.info(`pruning off: it needs one accuracy objective and cost objectives known during training (${unknown.map((o) => o.name).join(', ') || 'accuracy objective missing'} is not)`);
      return undefined;
    }
    return { accuracy: accuracy[0]!.name, costs: costs.map((o) => o.name), margin: prune.margin };
  }

  metrics(): readonly MetricSpec[] {
    return proxyMetricSpecs(this.options.settings.latencyBatch);
  }

  /** The front of the trials finished so far, for the pruning rule (validation accuracy stands in for test accuracy). */
  private currentPruneRule(): PruneRule | undefined {
    const rule = this.pruneRule;
    if (!rule || this.finished.length === 0) return undefined;
    const points = this.finished.map((f) => ({ f, losses: [-f.valAccuracy, ...rule.costs.map((c) => f.values[c] ?? Number.POSITIVE_INFINITY)] }));
    const front = points.filter((p) => !points.some((q) => q !== p && dominates(q.losses, p.losses)));
    return {
      front: front.map(({ f }) => ({ valAccuracy: f.valAccuracy, costs: Object.fromEntries(rule.costs.map((c) => [c, f.values[c] as number])) })),
      costMetrics: rule.costs,
      margin: rule.margin,
    };
  }

  async evaluate(arch: ArchJson, trial: TrialInfo): Promise<EvaluationResult> {
    let result: ProxyTrialResult;
    try {
      result = await this.pool.runProxyTrial({
        spaceModule: this.options.spaceModule, arch, data: this.data, settings: this.options.settings,
        prune: this.currentPruneRule(), label: `run-${trial.runId}/trial-${trial.seq}`,
      });
    } catch (err) {
      const e = err as Error & { code?: string };
      // A worker that exits or crashes rejects without a code; name it so the stored reason is clear.
      if (!e.code && /worker|terminated|exit/i.test(e.message)) e.code = 'E_WORKER_DIED';
      throw err;
    }
    const values = Object.fromEntries(result.metrics.map((m) => [m.name, m.value]));
    this.finished.push({ valAccuracy: values['accuracy.val'] ?? Number.NaN, values });
    if (result.numTensorsAfter !== result.numTensorsBefore) {
      this.logger.warn(`trial ${trial.seq}: worker ${result.threadId} holds ${result.numTensorsAfter - result.numTensorsBefore} more tensors than before it (a leak in the space's model?)`);
    }
    return { metrics: result.metrics, worker: `thread-${result.threadId}/${result.backend.name}`, model: result.model };
  }

  /** Runs one trial and returns everything the worker reported (tests, `greennas train`). */
  async evaluateDetailed(arch: ArchJson, label: string): Promise<ProxyTrialResult> {
    return this.pool.runProxyTrial({ spaceModule: this.options.spaceModule, arch, data: this.data, settings: this.options.settings, label });
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}
