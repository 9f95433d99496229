/**
 * The pieces of the search-quality bench that are worth testing on their own: a minimal ask/tell
 * loop over the NAS-Bench-201 table (de-duplication by key, failed trials count against the budget)
 * and the hypervolume regret of a set of trials against the whole table's front.
 */
import { TrialError, createRng } from '../src/core/index.js';
import { buildObjectives, hypervolume, minMaxNormalizer, paretoFrontIndices, toLosses, type MinMaxNormalizer, type Objective } from '../src/objectives/index.js';
import type { StrategyDefinition } from '../src/controller/strategy.js';
import { SurrogateStrategy, type SurrogateOptions } from '../src/controller/strategies/surrogate.js';
import { nasbench201, nasbench201Records } from '../search-spaces/nasbench201/index.js';

/** A dataset with the objectives searched on it. */
export interface Combo {
  /** Dataset id. */
  dataset: string;
  /** Metric names, e.g. `accuracy,latency.edgegpu,energy.edgegpu`. */
  objectives: string;
}

/** The table seen through one combo's objectives: the normaliser and the true front's volume. */
export interface ComboTruth {
  /** The objectives. */
  objectives: Objective[];
  /** Min-max over the architectures that have every objective value. */
  normalizer: MinMaxNormalizer;
  /** Hypervolume of the whole table's front in the normalised space (reference 1.1 each). */
  trueVolume: number;
  /** Architectures with every value (the rest fail when evaluated). */
  valid: number;
  /** Size of the true front. */
  frontSize: number;
}

/** Reference point coordinate of the normalised space. */
export const REFERENCE = 1.1;

/** Builds the combo's objectives, normaliser and true-front volume from the whole table. */
export function comboTruth(combo: Combo): ComboTruth {
  const objectives = buildObjectives(combo.objectives, nasbench201.metrics(combo.dataset));
  const needed = objectives.flatMap((o) => o.requires);
  const losses = nasbench201Records(combo.dataset)
    .filter((r) => needed.every((n) => n in r.metrics))
    .map((r) => toLosses(objectives, r.metrics));
  const normalizer = minMaxNormalizer(losses);
  const normalised = losses.map((l) => normalizer.apply(l));
  const front = paretoFrontIndices(normalised).map((i) => normalised[i] as number[]);
  const ref = objectives.map(() => REFERENCE);
  return { objectives, normalizer, trueVolume: hypervolume(front, ref), valid: losses.length, frontSize: front.length };
}

/** 1 − HV(found) / HV(true front) for the completed losses among the trials. */
export function hypervolumeRegret(truth: ComboTruth, losses: readonly (readonly number[])[]): number {
  const ref = truth.objectives.map(() => REFERENCE);
  const points = losses.map((l) => truth.normalizer.apply(l));
  return 1 - hypervolume(points, ref) / truth.trueVolume;
}

/** One evaluated architecture of a bench run, in evaluation order. */
export interface BenchTrial {
  /** Cell string. */
  key: string;
  /** Losses in objective order, or undefined for a failed trial. */
  losses?: number[];
}

/** Looks an architecture up through the space, as a study would; a TrialError is a failed trial. */
export function evaluateTrial(combo: Combo, objectives: readonly Objective[], arch: string): number[] | undefined {
  try {
    const values = nasbench201.evaluate!(arch, { dataset: combo.dataset, metrics: objectives.flatMap((o) => o.requires) }) as { name: string; value: number }[];
    return toLosses(objectives, Object.fromEntries(values.map((v) => [v.name, v.value])));
  } catch (err) {
    if (err instanceof TrialError) return undefined;
    throw err;
  }
}

/**
 * Runs one strategy for `budget` evaluations with a tiny sequential ask/tell loop: re-asks (then
 * falls back to sampling) until the key is new, evaluates, tells. Same seed derivation as a study.
 */
export function runStrategy(definition: StrategyDefinition, combo: Combo, objectives: readonly Objective[], seed: number, budget: number): BenchTrial[] {
  const root = createRng(seed);
  const fallback = root.fork('fallback');
  const seen = new Set<string>();
  const strategy = definition.create<string>({ space: nasbench201, rng: root.fork('strategy'), objectives, budget, isSeen: (k) => seen.has(k) });
  const trials: BenchTrial[] = [];
  while (trials.length < budget) {
    let arch: string | undefined;
    for (let i = 0; i < 200 && arch === undefined; i++) {
      const a = strategy.ask();
      if (!seen.has(nasbench201.key(a))) arch = a;
    }
    for (let i = 0; i < 2000 && arch === undefined; i++) {
      const a = nasbench201.sample(fallback);
      if (!seen.has(nasbench201.key(a))) arch = a;
    }
    if (arch === undefined) break;
    const key = nasbench201.key(arch);
    seen.add(key);
    const losses = evaluateTrial(combo, objectives, arch);
    trials.push({ key, losses });
    strategy.tell({ arch, key, state: losses ? 'complete' : 'failed', losses });
  }
  return trials;
}

/** The surrogate strategy with non-default options, as a strategy definition named `name`. */
export function surrogateVariant(name: string, options: SurrogateOptions): StrategyDefinition {
  return { name, description: 'surrogate variant', create: (ctx) => new SurrogateStrategy(ctx, options) };
}

/** Regret of the first `budget` trials. */
export function regretAfter(truth: ComboTruth, trials: readonly BenchTrial[], budget: number): number {
  return hypervolumeRegret(
    truth,
    trials.slice(0, budget).flatMap((t) => (t.losses ? [t.losses] : [])),
  );
}

/** Median of a non-empty list. */
export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}
