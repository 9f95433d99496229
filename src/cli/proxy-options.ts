import { UserError } from '../core/index.js';
import { resolveEnergySetup } from '../energy/index.js';
import type { BackendName, BackendPreference } from '../trainer/backend.js';
import type { ProxyOptimizerName } from '../trainer/proxy-training.js';
import type { ProxySettings, WorkerEnergyFlags } from '../trainer/proxy-trial.js';
import type { TrainerEvaluatorOptions } from '../trainer/trainer-evaluator.js';
import { energyOptions, energyFlagsFrom, type EnergyArgs } from './commands/meter.js';
import { positiveInt } from './options.js';

/** Backend names, restated so that parsing flags does not load tfjs (the type keeps them in step with the trainer's list). */
const BACKEND_NAMES = ['tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu'] as const satisfies readonly BackendName[];

/** The proxy-training flags of `search` and `train`, as yargs gives them (strings: validation and messages are ours). */
export const proxyOptions = {
  workers: { type: 'string', describe: 'Training worker threads (default: one per core, or one per GPU on the GPU backend)', requiresArg: true },
  epochs: { type: 'string', describe: 'Proxy training epochs over the training subset (default: per dataset)', requiresArg: true },
  'train-subset': { type: 'string', describe: 'Train on this many samples (seeded, stratified; default: per dataset, "all" for every one)', requiresArg: true },
  'max-steps': { type: 'string', describe: 'Stop proxy training after this many steps in total', requiresArg: true },
  'batch-size': { type: 'string', describe: 'Samples per training step (default: per dataset)', requiresArg: true },
  optimizer: { type: 'string', describe: 'adam or sgd (momentum 0.9) (default adam)', requiresArg: true },
  'learning-rate': { type: 'string', describe: 'Peak learning rate, warm-up then cosine decay (default: per dataset)', requiresArg: true },
  'validation-subset': { type: 'string', describe: 'Validate on this many samples of the validation split (the search signal; default: per dataset)', requiresArg: true },
  'test-subset': { type: 'string', describe: 'Report test accuracy on this many test samples (default: the whole test split)', requiresArg: true },
  'prune-margin': { type: 'string', describe: 'Stop a proxy whose validation accuracy + this margin cannot reach a front member no worse in cost (default 0.1; "off" disables)', requiresArg: true },
  'latency-batch': { type: 'string', describe: 'Second latency probe batch size, besides batch 1 (default 32)', requiresArg: true },
  backend: { type: 'string', describe: `Training backend: auto, ${BACKEND_NAMES.join(', ')} (default auto)`, requiresArg: true },
  'data-dir': { type: 'string', describe: 'Folder holding the dataset files (Fashion-MNIST IDX files)', requiresArg: true },
  ...energyOptions,
} as const;

/** Parsed proxy flags (camel-cased by yargs as well; the dashed names are read). */
export interface ProxyArgs extends EnergyArgs {
  workers?: string;
  epochs?: string;
  'train-subset'?: string;
  'max-steps'?: string;
  'batch-size'?: string;
  optimizer?: string;
  'learning-rate'?: string;
  'validation-subset'?: string;
  'test-subset'?: string;
  'prune-margin'?: string;
  'latency-batch'?: string;
  backend?: string;
  'data-dir'?: string;
}

/** The flags above that define a proxy search (all but --workers, which may change on --resume). */
export const PROXY_DEFINING_FLAGS = ['epochs', 'train-subset', 'max-steps', 'batch-size', 'optimizer', 'learning-rate', 'validation-subset', 'test-subset', 'prune-margin', 'latency-batch', 'backend', 'data-dir'] as const;

/** Validated proxy configuration, stored with the run so --resume trains the same way. */
export interface ProxyConfig {
  /** Worker threads; absent = the default for the backend. */
  workers?: number;
  /** Epochs. */
  epochs: number;
  /** Training samples; absent = all. */
  trainSubset?: number;
  /** Step cap. */
  maxSteps?: number;
  /** Batch size. */
  batchSize: number;
  /** Optimiser. */
  optimizer: ProxyOptimizerName;
  /** Peak learning rate. */
  learningRate: number;
  /** Validation samples; absent = the whole validation split. */
  validationSubset?: number;
  /** Test samples; absent = the whole test split. */
  testSubset?: number;
  /** Pruning margin; null = pruning off. */
  pruneMargin: number | null;
  /** Second latency batch. */
  latencyBatch: number;
  /** Backend preference. */
  backend: BackendPreference;
  /** Dataset folder. */
  dataDir?: string;
  /** Energy flags, resolved again in each worker. */
  energy: WorkerEnergyFlags;
}

/** Proxy defaults per dataset, chosen so the default search finishes in minutes on two cores. */
export const PROXY_DEFAULTS: Record<string, Omit<ProxyConfig, 'energy' | 'backend' | 'pruneMargin' | 'latencyBatch'>> = {
  // Adam at 1e-2 on batches of 128 (BN keeps it stable), one pass over the whole training split: a
  // width-1 net of the space reached 86.8 % test accuracy in 100 s on one core (two passes over
  // 18,000 images: 84.7 % in 69 s).
  'fashion-mnist': { epochs: 1, batchSize: 128, optimizer: 'adam', learningRate: 1e-2, validationSubset: 1000, testSubset: 2000 },
  // Post-LN transformers want a smaller Adam step; the whole (small) corpus is used. One pass already
  // gives 98 % test accuracy to a 2-layer, width-64 encoder (about 2 minutes on one core).
  'spam-assassin': { epochs: 1, batchSize: 32, optimizer: 'adam', learningRate: 1e-3 },
};

const FALLBACK_DEFAULTS = PROXY_DEFAULTS['fashion-mnist']!;

function positiveNumber(flag: string, value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new UserError(`${flag} must be a positive number, got '${value}'. Fix: pass e.g. ${flag} 0.001.`, { subject: flag });
  return n;
}

function countOrAll(flag: string, value: string | undefined, fallback: number | undefined): number | undefined {
  if (value === undefined) return fallback;
  if (value === 'all') return undefined;
  return positiveInt(flag, value);
}

/** Checks --workers. */
export function parseWorkers(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 256) throw new UserError(`--workers must be a whole number from 1 to 256, got '${value}'. Fix: pass e.g. --workers 2.`, { subject: '--workers' });
  return n;
}

/** Validates every proxy flag (and the energy flags, by resolving the meter once) before anything trains. */
export async function resolveProxyConfig(args: ProxyArgs, dataset: string): Promise<ProxyConfig> {
  const d = PROXY_DEFAULTS[dataset] ?? FALLBACK_DEFAULTS;
  const optimizer = args.optimizer ?? d.optimizer;
  if (optimizer !== 'adam' && optimizer !== 'sgd') throw new UserError(`--optimizer must be adam or sgd, got '${optimizer}'. Fix: pass --optimizer adam.`, { subject: '--optimizer' });
  const backend = (args.backend ?? 'auto') as BackendPreference;
  if (backend !== 'auto' && !(BACKEND_NAMES as readonly string[]).includes(backend)) {
    throw new UserError(`--backend must be auto or one of ${BACKEND_NAMES.join(', ')}, got '${backend}'. Fix: pass --backend auto.`, { subject: '--backend' });
  }
  let pruneMargin: number | null = 0.1;
  if (args['prune-margin'] !== undefined) {
    const v = args['prune-margin'];
    if (v === 'off') pruneMargin = null;
    else {
      pruneMargin = Number(v);
      if (v.trim() === '' || !Number.isFinite(pruneMargin) || pruneMargin < 0 || pruneMargin > 1) {
        throw new UserError(`--prune-margin must be a fraction from 0 to 1, or off, got '${v}'. Fix: pass e.g. --prune-margin 0.1.`, { subject: '--prune-margin' });
      }
    }
  }
  const config: ProxyConfig = {
    workers: parseWorkers(args.workers),
    epochs: args.epochs === undefined ? d.epochs : positiveInt('--epochs', args.epochs),
    trainSubset: countOrAll('--train-subset', args['train-subset'], d.trainSubset),
    maxSteps: args['max-steps'] === undefined ? d.maxSteps : positiveInt('--max-steps', args['max-steps']),
    batchSize: args['batch-size'] === undefined ? d.batchSize : positiveInt('--batch-size', args['batch-size']),
    optimizer,
    learningRate: args['learning-rate'] === undefined ? d.learningRate : positiveNumber('--learning-rate', args['learning-rate']),
    validationSubset: countOrAll('--validation-subset', args['validation-subset'], d.validationSubset),
    testSubset: countOrAll('--test-subset', args['test-subset'], d.testSubset),
    pruneMargin,
    latencyBatch: args['latency-batch'] === undefined ? 32 : positiveInt('--latency-batch', args['latency-batch']),
    backend,
    dataDir: args['data-dir'],
    energy: {},
  };
  const energy = energyFlagsFrom({ ...args, meter: args.meter ?? 'auto' } as EnergyArgs);
  config.energy = Object.fromEntries(Object.entries(energy).filter(([, v]) => v !== undefined)) as WorkerEnergyFlags;
  const setup = await resolveEnergySetup(config.energy);
  await setup.meter.close?.();
  return config;
}

/**
 * What a command that trains or times a run's stored models in this process needs: the run's tfjs
 * backend, its dataset, and an energy meter reading this process's CPU time (compress, compare).
 */
export async function openRunSession(proxy: ProxyConfig, dataset: string, options: ReturnType<typeof evaluatorOptionsFrom>) {
  const { initBackend } = await import('../trainer/backend.js');
  const { loadDataset } = await import('../data/index.js');
  const { processCpuTime } = await import('../energy/index.js');
  const backend = await initBackend(proxy.backend);
  const ds = await loadDataset(dataset, { ...options.datasetOptions });
  const energy = await resolveEnergySetup({ ...proxy.energy, cpuTime: processCpuTime });
  return { backend, ds, energy };
}

/** Evaluator options (minus the space and pruning) from a validated configuration. */
export function evaluatorOptionsFrom(config: ProxyConfig, dataset: string, seed: number): Omit<TrainerEvaluatorOptions, 'spaceModule' | 'prune' | 'logger'> {
  const settings: ProxySettings = {
    backend: config.backend,
    budget: { epochs: config.epochs, batchSize: config.batchSize, maxSteps: config.maxSteps, optimizer: config.optimizer, learningRate: config.learningRate, seed },
    latencyBatch: config.latencyBatch,
    latencyWarmupRuns: 5,
    latencyTimedRuns: 30,
    energy: config.energy,
  };
  return {
    dataset,
    datasetOptions: { seed, trainSubset: config.trainSubset, validationSubset: config.validationSubset, dataDir: config.dataDir },
    testSubset: config.testSubset,
    workers: config.workers,
    settings,
  };
}
