import { hypervolume } from '../../objectives/index.js';
import type { ArchJson } from '../../space/index.js';
import type { Strategy, StrategyContext, StrategyDefinition, TrialOutcome } from '../strategy.js';
import { evaluatedOf, proposeUnseen, type Evaluated } from './common.js';
import { HammingGaussianProcess, hammingDistance } from './gaussian-process.js';
import { CategoricalRandomForest } from './random-forest.js';

/** Settings of surrogate-assisted evolution. */
export interface SurrogateOptions {
  /** Random architectures evaluated before the models are trusted (default: 10% of the budget, 8 to 20). */
  initialSamples?: number;
  /** Candidates screened per ask (mutations, crossovers and samples; default 1,500). */
  candidates?: number;
  /** Candidates, best by predicted mean, whose expected improvement is estimated (default 96). */
  shortlist?: number;
  /** Posterior draws per shortlisted candidate for the expected hypervolume improvement (default 24). */
  draws?: number;
}

/** Reference point of the normalised loss space, as in the hypervolume indicator benches use. */
const REF = 1.1;
/** Every this many model-based asks, one chases a single objective's minimum. */
const EXTREME_PERIOD = 8;

interface Candidate<A> {
  arch: A;
  choices: number[];
  mean: number[];
  epsilon: number;
}

/**
 * Surrogate-assisted evolution (greennas's own design, the default). One Gaussian process per
 * objective over the decision vector (exponential Hamming kernel) is fitted to every completed trial;
 * each ask screens a large pool of candidates — mutations (1 and 2 steps) and crossovers of the
 * current Pareto front plus fresh samples — by their predicted distance to the front, then estimates
 * the expected hypervolume improvement of a shortlist by sampling the posteriors, discounted by the
 * predicted chance that the trial fails (a kernel-weighted failure rate). Only the best candidate is
 * evaluated. Outstanding asks are counted as if they had landed on their predicted means ("kriging
 * believer"), so concurrent asks spread out. Objectives are min-max normalised over what has been
 * seen, reference point 1.1.
 */
export class SurrogateStrategy<A extends ArchJson> implements Strategy<A> {
  readonly name = 'surrogate';
  private readonly initial: number;
  private readonly poolSize: number;
  private readonly shortlist: number;
  private readonly draws: number;
  private readonly done: (Evaluated<A> & { choices: number[] })[] = [];
  private readonly failedChoices: number[][] = [];
  private readonly pending = new Map<string, number[]>();
  private models: { predict(x: readonly number[]): { mean: number; std: number }; predictMean(x: readonly number[]): number }[];
  private readonly gps: HammingGaussianProcess[];
  private readonly forests: CategoricalRandomForest[];
  private fittedOn = -1;
  private tunedAt = 0;
  private lo: number[] = [];
  private hi: number[] = [];
  private asked = 0;

  constructor(
    private readonly ctx: StrategyContext<A>,
    options: SurrogateOptions = {},
  ) {
    this.initial = options.initialSamples ?? Math.min(20, Math.max(8, Math.round(ctx.budget / 10)));
    this.poolSize = options.candidates ?? 1500;
    this.shortlist = options.shortlist ?? 96;
    this.draws = options.draws ?? 24;
    this.gps = ctx.objectives.map(() => new HammingGaussianProcess());
    const cards = ctx.space.decisions().map((d) => d.choices.length);
    this.forests = ctx.objectives.map(() => new CategoricalRandomForest(cards));
    this.models = process.env.GN_MODEL === 'rf' ? this.forests : this.gps;
  }

  ask(): A {
    const { ctx } = this;
    this.asked++;
    let arch: A;
    if (this.asked <= this.initial || this.done.length < 2) arch = proposeUnseen(ctx, () => ctx.space.sample(ctx.rng));
    else arch = this.propose();
    this.pending.set(ctx.space.key(arch), ctx.space.encode(arch));
    return arch;
  }

  tell(outcome: TrialOutcome<A>): void {
    const choices = this.pending.get(outcome.key) ?? this.ctx.space.encode(outcome.arch);
    this.pending.delete(outcome.key);
    const e = evaluatedOf(outcome);
    if (e) this.done.push({ ...e, choices });
    else this.failedChoices.push(choices);
  }

  private normalise(losses: readonly number[]): number[] {
    return losses.map((v, i) => {
      const range = (this.hi[i] as number) - (this.lo[i] as number);
      return range > 0 ? (v - (this.lo[i] as number)) / range : 0;
    });
  }

  private fit(): void {
    if (this.fittedOn === this.done.length) return;
    const dims = this.ctx.objectives.length;
    this.lo = Array.from({ length: dims }, (_, i) => Math.min(...this.done.map((d) => d.losses[i] as number)));
    this.hi = Array.from({ length: dims }, (_, i) => Math.max(...this.done.map((d) => d.losses[i] as number)));
    // Re-tune hyperparameters only when the data has grown by a quarter: tuning is 20 factorisations.
    const tune = this.done.length >= this.tunedAt * 1.25 + 2;
    if (tune) this.tunedAt = this.done.length;
    const x = this.done.map((d) => d.choices);
    if (this.models === this.gps) this.gps.forEach((m, i) => m.fit(x, this.done.map((d) => this.normalise(d.losses)[i] as number), tune));
    else this.forests.forEach((m, i) => m.fit(x, this.done.map((d) => this.normalise(d.losses)[i] as number), this.ctx.rng));
    this.fittedOn = this.done.length;
  }

  private failureProbability(choices: readonly number[]): number {
    const total = this.done.length + this.failedChoices.length;
    const prior = (this.failedChoices.length + 1) / (total + 2);
    let wFail = 0;
    let wAll = 0;
    const weight = (other: readonly number[]) => Math.exp(-2 * hammingDistance(choices, other));
    for (const f of this.failedChoices) {
      const w = weight(f);
      wFail += w;
      wAll += w;
    }
    for (const d of this.done) wAll += weight(d.choices);
    return (wFail + prior) / (wAll + 1);
  }

  private candidatePool(front: readonly (Evaluated<A> & { choices: number[] })[]): A[] {
    const { space, rng } = this.ctx;
    const out = new Map<string, A>();
    const add = (a: A) => {
      const k = space.key(a);
      if (!this.ctx.isSeen(k) && !this.pending.has(k)) out.set(k, a);
    };
    const parents = front.map((f) => f.arch);
    const local = Math.floor(this.poolSize * 0.7);
    for (let i = 0; i < local * 3 && out.size < local; i++) {
      const p = parents[rng.int(parents.length)] as A;
      const r = rng.next();
      if (r < 0.55) add(space.mutate(p, rng));
      else if (r < 0.85) add(space.mutate(space.mutate(p, rng), rng));
      else if (space.crossover) add(space.mutate(space.crossover(p, parents[rng.int(parents.length)] as A, rng), rng));
      else add(space.mutate(space.mutate(space.mutate(p, rng), rng), rng));
    }
    for (let i = 0; i < this.poolSize * 2 && out.size < this.poolSize; i++) add(space.sample(rng));
    return [...out.values()];
  }

  /** The objective whose minimum this ask chases, or undefined for an expected-improvement ask. */
  private extremeObjective(): number | undefined {
    const dims = this.ctx.objectives.length;
    if (dims < 2 || process.env.GN_EXTREME === "0") return undefined;
    const m = this.asked - this.initial - 1;
    if (m < dims) return m;
    const period = EXTREME_PERIOD;
    return m % period === 0 ? Math.floor(m / period) % dims : undefined;
  }

  private propose(): A {
    const { ctx } = this;
    this.fit();
    const points = this.done.map((d) => this.normalise(d.losses));
    const frontIdx = points.map((_, i) => i).filter((i) => !points.some((q, j) => j !== i && dominatesOrEqualBefore(q, points[i] as number[], j, i)));
    const front = frontIdx.map((i) => this.done[i] as Evaluated<A> & { choices: number[] });
    // Kriging believer: pending asks are assumed to land on their predicted means.
    const believed = frontIdx.map((i) => points[i] as number[]);
    for (const choices of this.pending.values()) believed.push(this.models.map((m) => m.predictMean(choices)));
    const pool = this.candidatePool(front);
    if (pool.length === 0) return proposeUnseen(ctx, () => ctx.space.sample(ctx.rng));
    const scored: Candidate<A>[] = pool.map((arch) => {
      const choices = ctx.space.encode(arch);
      const mean = this.models.map((m) => m.predictMean(choices));
      // Additive epsilon: how far the prediction is from being non-dominated (negative = improves the front).
      let epsilon = Number.POSITIVE_INFINITY;
      for (const f of believed) {
        let worst = Number.NEGATIVE_INFINITY;
        for (let i = 0; i < mean.length; i++) worst = Math.max(worst, (mean[i] as number) - (f[i] as number));
        epsilon = Math.min(epsilon, worst);
      }
      return { arch, choices, mean, epsilon };
    });
    const extreme = this.extremeObjective();
    if (extreme !== undefined) {
      // Optimistic single-objective minimum: pushes the front's ends outwards, which the normalised
      // frame (and so the expected improvement) cannot see beyond.
      let bestC = scored[0] as Candidate<A>;
      let bestV = Number.POSITIVE_INFINITY;
      const shortlist = [...scored].sort((a, b) => (a.mean[extreme] as number) - (b.mean[extreme] as number)).slice(0, this.shortlist);
      for (const c of shortlist) {
        const p = this.models[extreme]!.predict(c.choices);
        const v = (p.mean - p.std) / (1 - this.failureProbability(c.choices));
        if (v < bestV) {
          bestV = v;
          bestC = c;
        }
      }
      return bestC.arch;
    }
    scored.sort((a, b) => a.epsilon - b.epsilon);
    const ref = believed.length > 0 ? (believed[0] as number[]).map(() => REF) : [];
    const eps = Number(process.env.GN_EPS ?? 0);
    const shifted = believed.map((p) => p.map((v) => v - eps));
    const baseVolume = hypervolume(shifted, ref);
    let best: Candidate<A> | undefined;
    let bestScore = Number.NEGATIVE_INFINITY;
    for (const c of scored.slice(0, this.shortlist)) {
      const post = this.models.map((m) => m.predict(c.choices));
      let gain = 0;
      const kappa = Number(process.env.GN_KAPPA ?? -1);
      if (kappa >= 0) gain = improvement(shifted, post.map((p) => p.mean - kappa * p.std), ref, baseVolume) * this.draws;
      else for (let s = 0; s < this.draws; s++) {
        const y = post.map((p) => p.mean + p.std * ctx.rng.normal());
        gain += improvement(shifted, y, ref, baseVolume);
      }
      const score = (gain / this.draws) * (1 - this.failureProbability(c.choices)) - 1e-9 * c.epsilon;
      if (score > bestScore) {
        bestScore = score;
        best = c;
      }
    }
    return (best as Candidate<A>).arch;
  }
}

/** q dominates p, or equals it and comes first (so one of several equal points stays on the front). */
function dominatesOrEqualBefore(q: readonly number[], p: readonly number[], qi: number, pi: number): boolean {
  let strictly = false;
  for (let i = 0; i < p.length; i++) {
    if ((q[i] as number) > (p[i] as number)) return false;
    if ((q[i] as number) < (p[i] as number)) strictly = true;
  }
  return strictly || qi < pi;
}

function improvement(set: readonly (readonly number[])[], y: readonly number[], ref: readonly number[], base: number): number {
  for (const s of set) {
    let weak = true;
    for (let i = 0; i < y.length; i++) if ((s[i] as number) > (y[i] as number)) weak = false;
    if (weak) return 0;
  }
  return hypervolume([...set, y], ref) - base;
}

/** `--strategy surrogate` (the default). */
export const surrogateStrategy: StrategyDefinition = {
  name: 'surrogate',
  description: 'surrogate-assisted evolution: Gaussian-process models screen mutations of the front by expected hypervolume improvement (default)',
  create: (ctx) => new SurrogateStrategy(ctx),
};
