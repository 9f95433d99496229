import { randomInt } from 'node:crypto';
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError, type Logger, type MetricSpec } from '../core/index.js';
import type { StrategyDefinition } from '../controller/index.js';
import { strategies, DEFAULT_STRATEGY } from '../controller/strategies/index.js';
import { buildMnasObjective, buildObjectives, MNAS_DEFAULT_EXPONENT, type Objective } from '../objectives/index.js';
import { TableEvaluator, loadSpacePlugin, type Evaluator, type SearchSpace } from '../space/index.js';
import { proxyMetricSpecs } from '../trainer/proxy-metrics.js';
import type { TrainerEvaluator } from '../trainer/trainer-evaluator.js';
import { builtinSpaces } from './builtin-spaces.js';
import { positiveInt } from './options.js';
import { evaluatorOptionsFrom, PROXY_DEFINING_FLAGS, resolveProxyConfig, type ProxyArgs, type ProxyConfig } from './proxy-options.js';

/** Default space of `greennas search` with no flags: trained on Fashion-MNIST in worker threads. */
export const DEFAULT_SPACE = 'mobilenet';
/** Default number of evaluations of a benchmark-table space (a lookup costs microseconds). */
export const DEFAULT_TRIALS = 100;
/** Default number of evaluations of a trained space (each one trains a proxy: the default search takes minutes). */
export const DEFAULT_TRAINED_TRIALS = 8;

/** The search flags as yargs gives them (strings, so that validation and messages are ours). */
export interface SearchFlags extends ProxyArgs {
  space?: string;
  dataset?: string;
  objectives?: string;
  reward?: string;
  latencyTarget?: string;
  alpha?: string;
  beta?: string;
  strategy?: string;
  trials?: string;
  seed?: string;
}

/** Validated settings of a search; stored with the run so that --resume rebuilds the same search. */
export interface SearchSettings {
  /** Built-in space name, or an absolute plug-in path. */
  space: string;
  /** Dataset id. */
  dataset: string;
  /** Metric names to optimise, in order. */
  objectives: string[];
  /** `pareto`: each metric is an objective; `mnas`: one scalar reward from accuracy and latency. */
  reward: 'pareto' | 'mnas';
  /** MnasNet target latency, in the latency metric's unit. */
  latencyTarget?: number;
  /** MnasNet exponent when latency ≤ target. */
  alpha: number;
  /** MnasNet exponent when latency > target. */
  beta: number;
  /** Strategy id. */
  strategy: string;
  /** Planned evaluations. */
  trials: number;
  /** Seed. */
  seed: number;
  /** Proxy training (trained spaces only). */
  proxy?: ProxyConfig;
}

/** What a validated search is run with. */
export interface SearchSetup {
  space: SearchSpace;
  evaluator: Evaluator;
  objectives: Objective[];
  strategy: StrategyDefinition;
  versions: Record<string, string>;
}

/** Loads a space by built-in name or plug-in path; a UserError names --space and the choices. */
export async function resolveSpace(spec: string): Promise<SearchSpace> {
  const builtin = builtinSpaces[spec];
  if (builtin) return builtin();
  const looksLikePath = spec.includes('/') || spec.includes('\\') || /\.(m?[jt]s|c?js)$/.test(spec);
  if (!looksLikePath) {
    throw new UserError(`--space '${spec}' is not a built-in space. Fix: use one of ${Object.keys(builtinSpaces).join(', ')}, or a path to a plug-in module (e.g. ./my-space.js).`, { subject: '--space' });
  }
  return loadSpacePlugin(spec);
}

function finiteNumber(flag: string, value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new UserError(`${flag} must be a number, got '${value}'. Fix: pass e.g. ${flag} -0.07.`, { subject: flag });
  return n;
}

/**
 * Default objectives: accuracy, then the first latency and the first energy metric the evaluator has.
 * A trained space searches on validation accuracy (`accuracy.val`); test accuracy is only reported.
 */
function defaultObjectives(specs: readonly MetricSpec[]): string[] {
  const names = specs.map((s) => s.name);
  const pick = [names.find((n) => n === 'accuracy.val') ?? names.find((n) => n === 'accuracy'), names.find((n) => n.startsWith('latency')), names.find((n) => n.startsWith('energy'))];
  return pick.filter((n): n is string => n !== undefined);
}

/** Absolute module path of a space, for worker threads to import: a built-in's compiled module, or the plug-in file. */
export function spaceModulePath(spec: string): string {
  if (builtinSpaces[spec]) return fileURLToPath(new URL(`../../search-spaces/${spec}/index.js`, import.meta.url));
  return isAbsolute(spec) ? spec : resolve(spec);
}

/** Metrics a space's evaluator will report, without starting it. */
function metricSpecsFor(space: SearchSpace, proxy: ProxyConfig | undefined): readonly MetricSpec[] {
  if (space.evaluate) return new TableEvaluator(space, space.datasets[0] as string).metrics();
  return proxyMetricSpecs(proxy?.latencyBatch ?? 32);
}

async function evaluatorFor(space: SearchSpace, settings: SearchSettings, objectives: readonly Objective[], logger?: Logger): Promise<Evaluator> {
  if (space.evaluate) return new TableEvaluator(space, settings.dataset);
  if (!settings.proxy) throw new UserError(`--space ${space.name} must be trained but the run has no proxy-training settings. Fix: start a new search.`, { subject: '--space' });
  const specs = proxyMetricSpecs(settings.proxy.latencyBatch);
  const direction = new Map(specs.map((m) => [m.name, m.direction] as const));
  const pruneObjectives = settings.reward === 'pareto' && settings.proxy.pruneMargin !== null
    ? settings.objectives.map((name) => ({ name, direction: direction.get(name) ?? 'minimize' }))
    : undefined;
  // Loaded on demand: tfjs and the worker pool are only needed when a space is trained.
  const { TrainerEvaluator } = await import('../trainer/trainer-evaluator.js');
  return TrainerEvaluator.create({
    ...evaluatorOptionsFrom(settings.proxy, settings.dataset, settings.seed),
    spaceModule: spaceModulePath(settings.space),
    prune: pruneObjectives && settings.proxy.pruneMargin !== null ? { objectives: pruneObjectives, margin: settings.proxy.pruneMargin } : undefined,
    logger,
  });
}

function objectivesFor(settings: Pick<SearchSettings, 'objectives' | 'reward' | 'latencyTarget' | 'alpha' | 'beta'>, specs: readonly MetricSpec[]): Objective[] {
  const metricObjectives = buildObjectives(settings.objectives, specs, '--objectives');
  if (settings.reward === 'pareto') return metricObjectives;
  const [acc, lat, ...rest] = metricObjectives;
  if (!acc || !lat || rest.length > 0 || acc.direction !== 'maximize' || lat.direction !== 'minimize') {
    throw new UserError(`--reward mnas needs --objectives with exactly an accuracy metric then a latency metric (e.g. accuracy,latency.edgegpu), got '${settings.objectives.join(',')}'.`, { subject: '--objectives' });
  }
  if (settings.latencyTarget === undefined) {
    throw new UserError(`--reward mnas needs --latency-target T (in ${lat.unit}), the latency the reward is centred on. Fix: add e.g. --latency-target 5.`, { subject: '--latency-target' });
  }
  return [buildMnasObjective(specs, { accuracyMetric: acc.name, latencyMetric: lat.name, targetLatencyMs: settings.latencyTarget, alpha: settings.alpha, beta: settings.beta })];
}

function strategyFor(name: string): StrategyDefinition {
  const s = strategies.find((d) => d.name === name);
  if (!s) throw new UserError(`--strategy '${name}' is unknown. Fix: use one of ${strategies.map((d) => d.name).join(', ')}.`, { subject: '--strategy' });
  return s;
}

/** Validates every search flag (before anything is stored) and fills in defaults. */
export async function resolveSettings(flags: SearchFlags): Promise<SearchSettings> {
  const spaceSpec = flags.space ?? DEFAULT_SPACE;
  const space = await resolveSpace(spaceSpec);
  const storedSpace = builtinSpaces[spaceSpec] ? spaceSpec : isAbsolute(spaceSpec) ? spaceSpec : resolve(spaceSpec);
  const dataset = flags.dataset ?? (space.datasets[0] as string);
  if (!space.datasets.includes(dataset)) {
    throw new UserError(`--dataset '${dataset}' is not a dataset of space ${space.name}. Fix: use one of ${space.datasets.join(', ')}.`, { subject: '--dataset' });
  }
  const reward = flags.reward ?? 'pareto';
  if (reward !== 'pareto' && reward !== 'mnas') throw new UserError(`--reward must be pareto or mnas, got '${reward}'.`, { subject: '--reward' });
  const strategy = strategyFor(flags.strategy ?? DEFAULT_STRATEGY).name;
  const trials = positiveInt('--trials', flags.trials ?? (space.evaluate ? DEFAULT_TRIALS : DEFAULT_TRAINED_TRIALS));
  let seed: number;
  if (flags.seed === undefined) seed = randomInt(0, 2 ** 31 - 1);
  else {
    seed = Number(flags.seed);
    if (!Number.isSafeInteger(seed) || seed < 0) throw new UserError(`--seed must be a whole number ≥ 0, got '${flags.seed}'. Fix: pass e.g. --seed 1.`, { subject: '--seed' });
  }
  let proxy: ProxyConfig | undefined;
  if (space.evaluate) {
    const given = PROXY_DEFINING_FLAGS.find((f) => flags[f] !== undefined) ?? (flags.workers !== undefined ? 'workers' : undefined);
    if (given) throw new UserError(`--${given} only applies to spaces that are trained; ${space.name} looks its results up in a table. Fix: drop --${given}.`, { subject: `--${given}` });
  } else {
    proxy = await resolveProxyConfig(flags, dataset);
  }
  const specs = metricSpecsFor(space, proxy);
  const objectives = flags.objectives !== undefined
    ? flags.objectives.split(',').map((s) => s.trim()).filter((s) => s.length > 0)
    : defaultObjectives(specs);
  if (objectives.length === 0) throw new UserError(`--objectives is empty. Fix: name at least one metric, e.g. --objectives accuracy.`, { subject: '--objectives' });
  const settings: SearchSettings = {
    space: storedSpace, dataset, objectives, reward, alpha: MNAS_DEFAULT_EXPONENT, beta: MNAS_DEFAULT_EXPONENT, strategy, trials, seed,
  };
  if (proxy) settings.proxy = proxy;
  if (flags.latencyTarget !== undefined) {
    settings.latencyTarget = finiteNumber('--latency-target', flags.latencyTarget);
    if (settings.latencyTarget <= 0) throw new UserError(`--latency-target must be positive, got ${flags.latencyTarget}.`, { subject: '--latency-target' });
  }
  if (flags.alpha !== undefined) settings.alpha = finiteNumber('--alpha', flags.alpha);
  if (flags.beta !== undefined) settings.beta = finiteNumber('--beta', flags.beta);
  if (reward === 'pareto' && (flags.latencyTarget !== undefined || flags.alpha !== undefined || flags.beta !== undefined)) {
    const flag = flags.latencyTarget !== undefined ? '--latency-target' : flags.alpha !== undefined ? '--alpha' : '--beta';
    throw new UserError(`${flag} only applies to --reward mnas. Fix: add --reward mnas or drop ${flag}.`, { subject: flag });
  }
  objectivesFor(settings, specs); // throws on unknown metrics or a malformed mnas reward
  return settings;
}

/** Builds the live objects of a search from validated (or stored) settings; `workers` overrides the stored worker count. */
export async function buildSearch(settings: SearchSettings, options: { logger?: Logger; workers?: number } = {}): Promise<SearchSetup> {
  if (!builtinSpaces[settings.space] && !existsSync(settings.space)) {
    throw new UserError(`the run's space plug-in ${settings.space} no longer exists. Fix: restore the file, then resume.`, { subject: '--space' });
  }
  const space = await resolveSpace(settings.space);
  const live = settings.proxy && options.workers !== undefined ? { ...settings, proxy: { ...settings.proxy, workers: options.workers } } : settings;
  const objectives = objectivesFor(settings, metricSpecsFor(space, settings.proxy));
  const evaluator = await evaluatorFor(space, live, objectives, options.logger);
  const versions: Record<string, string> = { space: `${space.name}@${space.version}` };
  if ('backendInfo' in evaluator) Object.assign(versions, (evaluator as TrainerEvaluator).backendInfo.versions, { backend: evaluator.backend, workers: String(evaluator.concurrency) });
  return { space, evaluator, objectives, strategy: strategyFor(settings.strategy), versions };
}
