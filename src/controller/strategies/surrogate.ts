import { hypervolume, hypervolumeImprovement } from '../../objectives/index.js';
import { shuffleInPlace, type Rng } from '../../core/index.js';
import type { ArchJson, Decision } from '../../space/index.js';
import type { Strategy, StrategyContext, StrategyDefinition, TrialOutcome } from '../strategy.js';
import { evaluatedOf, proposeUnseen, type Evaluated } from './common.js';
import { HammingGaussianProcess, hammingDistance, mismatchMask } from './gaussian-process.js';

/** Settings of the surrogate-assisted search. */
export interface SurrogateOptions {
  /** Architectures evaluated before the models are trusted (default 10, at most a quarter of the budget). */
  initialSamples?: number;
  /** How the initial architectures are drawn: `balanced` (every choice of every decision equally often, the default) or `random` (space.sample). */
  initialDesign?: 'balanced' | 'random';
  /** Candidates screened per ask when the space cannot list itself (mutations, crossovers and samples; default 1,500). */
  candidates?: number;
  /** Candidates, closest to the front by predicted mean, whose optimistic improvement is computed (default 96). */
  shortlist?: number;
  /** Optimism of the `optimistic` acquisition: posterior standard deviations subtracted from each predicted loss (default 3). */
  optimism?: number;
  /** Every this many model-based asks, one chases a single objective's optimistic minimum (default 8; 0 never). */
  extremePeriod?: number;
  /** Screen every unseen architecture when the space can list itself in at most this many (default 50,000). */
  enumerateLimit?: number;
  /** How the shortlist is scored: `optimistic` hypervolume improvement of mean − optimism·σ, or `ehvi` (Monte Carlo expected improvement; the default). */
  acquisition?: 'optimistic' | 'ehvi';
  /** Weight left on the improvement of a candidate whose space features were already measured (default 0.05; see isTriedFunction). */
  repeatWeight?: number;
  /** Shortlist places reserved for candidates whose space features were measured (default: no reservation, one ranking). */
  repeatPlaces?: number;
  /**
   * How the screen ranks candidates for the shortlist, by their predicted mean losses: `near` (the
   * default) by shiftToDominate(), which favours cells predicted next to a front member; `depth` by
   * dominationDepth(), which ranks a cell that would fill a gap between members with one that
   * pushes the front out. With exact predictions only `depth` finds the front; with the models,
   * `near` had the lower median regret over 20-40 seeds (bench/search-quality-results.md, session 9).
   */
  screen?: 'near' | 'depth';
  /** Fit the models to rank-based normal scores of each objective instead of its values (default true). */
  warp?: boolean;
  /** Monte Carlo draws per candidate for `ehvi` (default 64). */
  draws?: number;
  /** Shares of the additive kernel the models may choose (default 0, 0.5, 0.9, 0.99). */
  additiveGrid?: readonly number[];
  /** Kernel bandwidths the failure model chooses from by leave-one-out likelihood (0 = the global rate; default 0, 0.5, 1, 2, 4). */
  failureBandwidths?: readonly number[];
  /** Share of the budget after which improvement asks begin (default 0.5). */
  improvementFrom?: number;
  /** From then on, every this many asks one is an improvement ask: the single objective with the largest expected improvement (default 2; 0 never). */
  improvementPeriod?: number;
}

/** Reference point of the normalised loss space, as the hypervolume indicator of the benches uses. */
const REF = 1.1;

interface Described<A extends ArchJson> extends Evaluated<A> {
  /** Decision choices followed by the space's features. */
  described: number[];
}

/** An architecture of a space that lists itself, with its description. */
interface Listed<A> {
  arch: A;
  key: string;
  described: number[];
  /** Mismatch masks against the completed trials so far, in the models' fit order (extendMasks). */
  masks: number[];
}

interface Candidate<A> {
  arch: A;
  described: number[];
  /** The screen's value of the predicted mean losses (lower first): shiftToDominate() or dominationDepth(). */
  rank: number;
}

/**
 * Surrogate-assisted search, greennas's own design and the default strategy.
 *
 * The first architectures (10, or a quarter of a small budget) are a balanced random design: every
 * choice of every decision appears equally often among them, so the first fit sees each choice.
 * One Gaussian process per objective (a mix of an additive kernel and an exponential Hamming kernel
 * with a learned weight per decision and per space feature, gaussian-process.ts) is fitted to every
 * completed trial, on rank-based normal scores of the objective so a few outliers (cells cut to
 * chance accuracy) do not flatten the rest. Each ask screens candidates by how little their
 * predicted losses would have to improve to dominate a front member (shiftToDominate; `screen:
 * 'depth'` ranks by dominationDepth instead): every unseen architecture when the space can list itself
 * (`enumerate`, e.g. NAS-Bench-201's 15,625 cells), else mutations and crossovers of the current
 * Pareto front plus fresh samples. A shortlist is then scored by the expected hypervolume
 * improvement over the front (Monte Carlo over the posteriors, the same draws for every candidate),
 * discounted by the predicted chance that the trial fails (a kernel-weighted failure rate whose
 * bandwidth is chosen by leave-one-out likelihood, 0 meaning the global rate) and, when the space
 * supplies features, by whether an architecture with the same features was already measured (cells
 * with equal path codes compute the same function, so re-trying them mostly measures cost noise).
 * Every 8th model-based ask, and the first one per objective, instead chases one objective's
 * optimistic minimum: the normalised frame cannot reward extending the front beyond what was seen.
 * In the second half of the budget every 2nd ask is an improvement ask: the candidate with the
 * largest expected improvement of a single objective (in practice the top of the accuracy range,
 * which the hypervolume asks leave under-explored; earlier, or more often, such asks take the
 * evaluations that find the cheap knee of the front).
 * Only the best candidate is evaluated. Pending asks count as landed on their predicted means
 * ("kriging believer") so concurrent asks spread out. Objectives are min-max normalised over the
 * completed trials; reference point 1.1.
 */
export class SurrogateStrategy<A extends ArchJson> implements Strategy<A> {
  readonly name = 'surrogate';
  private readonly initial: number;
  private readonly poolSize: number;
  private readonly shortlist: number;
  private readonly optimism: number;
  private readonly extremePeriod: number;
  private readonly acquisition: 'optimistic' | 'ehvi';
  private readonly draws: number;
  private readonly repeatWeight: number;
  private readonly warp: boolean;
  private readonly repeatPlaces: number;
  /** The screen's ranking of predicted mean losses against the front (options.screen). */
  private readonly rankOf: (point: readonly number[], front: readonly (readonly number[])[]) => number;
  private readonly warps: RankWarp[] = [];
  private readonly bandwidths: readonly number[];
  private readonly improvementFrom: number;
  private readonly improvementPeriod: number;
  private readonly decisionCount: number;
  private readonly models: HammingGaussianProcess[];
  private readonly done: Described<A>[] = [];
  private readonly failed: number[][] = [];
  private readonly pending = new Map<string, number[]>();
  /** Feature keys of the completed trials (isTriedFunction). */
  private readonly triedFeatures = new Set<string>();
  /** Feature keys of the pending asks, with how many asks have each. */
  private readonly pendingFeatures = new Map<string, number>();
  /** Every architecture of the space with its description, when the space lists itself. */
  private readonly everything: Listed<A>[] | undefined;
  private fittedOn = -1;
  private tunedAt = 0;
  private bandwidthFor = -1;
  private bandwidth = 0;
  private lo: number[] = [];
  private hi: number[] = [];
  private asked = 0;
  /** Choice vectors of the initial architectures (empty for a random initial design). */
  private readonly design: number[][];

  constructor(
    private readonly ctx: StrategyContext<A>,
    options: SurrogateOptions = {},
  ) {
    this.initial = options.initialSamples ?? Math.min(10, Math.max(2, Math.floor(ctx.budget / 4)));
    this.poolSize = options.candidates ?? 1500;
    this.shortlist = options.shortlist ?? 96;
    this.optimism = options.optimism ?? 3;
    this.extremePeriod = options.extremePeriod ?? 8;
    this.acquisition = options.acquisition ?? 'ehvi';
    this.draws = options.draws ?? 64;
    this.repeatWeight = options.repeatWeight ?? 0.05;
    this.warp = options.warp ?? true;
    this.repeatPlaces = options.repeatPlaces ?? Number.POSITIVE_INFINITY;
    this.rankOf = options.screen === 'depth' ? dominationDepth : shiftToDominate;
    this.bandwidths = options.failureBandwidths ?? [0, 0.5, 1, 2, 4];
    this.improvementFrom = options.improvementFrom ?? 0.5;
    this.improvementPeriod = options.improvementPeriod ?? 2;
    this.decisionCount = ctx.space.decisions().length;
    this.models = ctx.objectives.map(() => new HammingGaussianProcess({ additiveGrid: options.additiveGrid }));
    this.design = (options.initialDesign ?? 'balanced') === 'balanced' ? balancedDesign(ctx.space.decisions(), this.initial, ctx.rng) : [];
    const all = ctx.space.enumerate?.();
    this.everything = all && all.length <= (options.enumerateLimit ?? 50_000) ? all.map((arch) => ({ arch, key: ctx.space.key(arch), described: this.describe(arch), masks: [] })) : undefined;
  }

  ask(): A {
    const { ctx } = this;
    this.asked++;
    const arch = this.asked <= this.initial || this.done.length < 2 ? (this.planned() ?? proposeUnseen(ctx, () => ctx.space.sample(ctx.rng))) : this.propose();
    const described = this.describe(arch);
    this.pending.set(ctx.space.key(arch), described);
    if (described.length > this.decisionCount) {
      const k = this.featureKey(described);
      this.pendingFeatures.set(k, (this.pendingFeatures.get(k) ?? 0) + 1);
    }
    return arch;
  }

  tell(outcome: TrialOutcome<A>): void {
    const asked = this.pending.get(outcome.key);
    const described = asked ?? this.describe(outcome.arch);
    this.pending.delete(outcome.key);
    const e = evaluatedOf(outcome);
    if (described.length > this.decisionCount) {
      const k = this.featureKey(described);
      // Only an outcome of this strategy's own ask was counted as pending.
      if (asked) {
        const n = this.pendingFeatures.get(k) ?? 0;
        if (n > 1) this.pendingFeatures.set(k, n - 1);
        else this.pendingFeatures.delete(k);
      }
      if (e) this.triedFeatures.add(k);
    }
    if (e) this.done.push({ ...e, described });
    else this.failed.push(described);
  }

  /** This ask's architecture of the initial design, unless there is none, the space cannot decode it, or it was already evaluated. */
  private planned(): A | undefined {
    const choices = this.design[this.asked - 1];
    if (!choices) return undefined;
    let arch: A;
    try {
      arch = this.ctx.space.decode(choices);
    } catch {
      return undefined;
    }
    return this.ctx.isSeen(this.ctx.space.key(arch)) ? undefined : arch;
  }

  /** What the models see: the decision choices, then the space's features when it has them. */
  private describe(arch: A): number[] {
    const { space } = this.ctx;
    const choices = space.encode(arch);
    return space.features ? [...choices, ...space.features(arch)] : choices;
  }

  private featureKey(described: readonly number[]): string {
    return described.slice(this.decisionCount).join(',');
  }

  /** A model's output back in the normalised loss frame. */
  private unwarp(objective: number, value: number): number {
    return this.warp ? (this.warps[objective] as RankWarp).inverse(value) : value;
  }

  /**
   * True when an architecture with the same space features as `arch` has completed or is pending:
   * cells with equal features compute the same function, so another one would mostly re-measure
   * it. A failed trial measured nothing (a device that cannot compile that cell, a hole in a
   * table), so its function still counts as untried.
   */
  isTriedFunction(arch: A): boolean {
    return this.isRepeat(this.describe(arch));
  }

  private isRepeat(described: readonly number[]): boolean {
    if (described.length <= this.decisionCount) return false;
    const k = this.featureKey(described);
    return this.triedFeatures.has(k) || this.pendingFeatures.has(k);
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
    // Hyperparameters are re-tuned only when the data has grown by a quarter: tuning costs dozens of factorisations.
    const tune = this.done.length >= this.tunedAt * 1.25 + 2;
    if (tune) this.tunedAt = this.done.length;
    const x = this.done.map((d) => d.described);
    const y = this.done.map((d) => this.normalise(d.losses));
    this.models.forEach((m, i) => {
      const column = y.map((v) => v[i] as number);
      if (!this.warp) return m.fit(x, column, tune);
      const warp = rankWarp(column);
      this.warps[i] = warp;
      m.fit(x, column.map((v) => warp.forward(v)), tune);
    });
    this.fittedOn = this.done.length;
  }

  /**
   * Failure probability: a kernel-weighted failure rate around the architecture, shrunk to the
   * global rate. The bandwidth (0 = the global rate alone) is the one whose leave-one-out
   * predictions of the told outcomes are most likely, so failures that strike at random (a table
   * with holes) do not steer the search away from good neighbourhoods.
   */
  private failureProbability(described: readonly number[]): number {
    this.chooseBandwidth();
    return this.failureRate(described, this.bandwidth, -1);
  }

  private failureRate(described: readonly number[], bandwidth: number, skip: number): number {
    const failedCount = this.failed.length - (skip >= this.done.length ? 1 : 0);
    const total = this.done.length + this.failed.length - (skip >= 0 ? 1 : 0);
    const prior = (failedCount + 1) / (total + 2);
    if (bandwidth === 0) return prior;
    let wFail = 0;
    let wAll = 0;
    this.failed.forEach((f, i) => {
      if (i + this.done.length === skip) return;
      const w = Math.exp(-bandwidth * hammingDistance(described, f));
      wFail += w;
      wAll += w;
    });
    this.done.forEach((d, i) => {
      if (i !== skip) wAll += Math.exp(-bandwidth * hammingDistance(described, d.described));
    });
    return (wFail + prior) / (wAll + 1);
  }

  private chooseBandwidth(): void {
    const told = this.done.length + this.failed.length;
    if (this.bandwidthFor === told) return;
    this.bandwidthFor = told;
    if (this.failed.length === 0) {
      this.bandwidth = 0;
      return;
    }
    let best = Number.NEGATIVE_INFINITY;
    for (const b of this.bandwidths) {
      let ll = 0;
      for (let i = 0; i < told; i++) {
        const failedOne = i >= this.done.length;
        const described = failedOne ? (this.failed[i - this.done.length] as number[]) : (this.done[i] as Described<A>).described;
        const p = this.failureRate(described, b, i);
        ll += Math.log(failedOne ? p : 1 - p);
      }
      if (ll > best + 1e-9) {
        best = ll;
        this.bandwidth = b;
      }
    }
  }

  private candidatePool(front: readonly Described<A>[]): { arch: A; described: number[]; masks?: number[] }[] {
    const { space, rng } = this.ctx;
    if (this.everything) return this.everything.filter((c) => !this.ctx.isSeen(c.key) && !this.pending.has(c.key));
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
    return [...out.values()].map((arch) => ({ arch, described: this.describe(arch) }));
  }

  /** A listed candidate's masks against the completed trials, extended by the trials completed since its last screen. */
  private extendMasks(masks: number[], described: readonly number[]): number[] {
    for (let i = masks.length; i < this.done.length; i++) masks.push(mismatchMask((this.done[i] as Described<A>).described, described));
    return masks;
  }

  /** Index of this ask among the model-based ones (0 = the first after the initial samples). */
  private modelAsk(): number {
    return this.asked - this.initial - 1;
  }

  /** The objective whose minimum this ask chases, or undefined for any other ask. */
  private extremeObjective(): number | undefined {
    const dims = this.ctx.objectives.length;
    if (dims < 2 || this.extremePeriod <= 0) return undefined;
    const m = this.modelAsk();
    if (m < dims) return m;
    return m % this.extremePeriod === 0 ? Math.floor(m / this.extremePeriod) % dims : undefined;
  }

  /** The shortlist of `candidates` with the lowest predicted mean loss of objective `o` (the input is not reordered). */
  private bestByMean<C extends { mean: number[] }>(candidates: readonly C[], o: number): C[] {
    return [...candidates].sort((a, b) => (a.mean[o] as number) - (b.mean[o] as number)).slice(0, this.shortlist);
  }

  /** True when this ask is an improvement ask (never one of the extreme asks). */
  private isImprovementAsk(): boolean {
    if (this.improvementPeriod <= 0 || this.asked <= this.improvementFrom * this.ctx.budget) return false;
    return this.extremeObjective() === undefined && this.modelAsk() % this.improvementPeriod === this.improvementPeriod - 1;
  }

  /**
   * The candidate with the largest expected improvement of one objective alone, over every
   * objective: Monte Carlo over its posterior in the normalised loss frame (where the best seen is
   * 0), discounted by the failure probability; the shortlist is the candidates with the best
   * predicted mean of that objective, leaving out ones whose features were tried.
   */
  private bestImprovement(scored: readonly (Candidate<A> & { mean: number[] })[]): Candidate<A> | undefined {
    const normals = Array.from({ length: this.draws }, () => this.ctx.rng.normal());
    const fresh = scored.filter((c) => !this.isRepeat(c.described));
    let best: Candidate<A> | undefined;
    let bestValue = 0;
    this.models.forEach((model, o) => {
      for (const c of this.bestByMean(fresh, o)) {
        const p = model.predict(c.described);
        let gain = 0;
        for (const z of normals) gain += Math.max(0, -this.unwarp(o, p.mean + p.std * z));
        const value = (gain / normals.length) * (1 - this.failureProbability(c.described));
        if (value > bestValue) {
          bestValue = value;
          best = c;
        }
      }
    });
    return best;
  }

  private propose(): A {
    const { ctx } = this;
    this.fit();
    const points = this.done.map((d) => this.normalise(d.losses));
    const frontIdx = points.map((_, i) => i).filter((i) => !points.some((q, j) => j !== i && dominatesOrEqualBefore(q, points[i] as number[], j, i)));
    const front = frontIdx.map((i) => this.done[i] as Described<A>);
    const believed = frontIdx.map((i) => points[i] as number[]);
    for (const described of this.pending.values()) believed.push(this.models.map((m, i) => this.unwarp(i, m.predictMean(described))));
    const pool = this.candidatePool(front);
    if (pool.length === 0) return proposeUnseen(ctx, () => ctx.space.sample(ctx.rng));
    const byMasks = (this.models[0] as HammingGaussianProcess).takesMasks;
    const scored: (Candidate<A> & { mean: number[] })[] = pool.map(({ arch, described, masks: listed }) => {
      const masks = byMasks ? (listed ? this.extendMasks(listed, described) : (this.models[0] as HammingGaussianProcess).masksAgainst(described)) : undefined;
      const mean = this.models.map((m, i) => this.unwarp(i, masks ? m.meanFromMasks(masks) : m.predictMean(described)));
      return { arch, described, mean, rank: this.rankOf(mean, believed) };
    });

    if (this.isImprovementAsk()) {
      const best = this.bestImprovement(scored);
      if (best) return best.arch;
    }

    const extreme = this.extremeObjective();
    if (extreme !== undefined) {
      const model = this.models[extreme] as HammingGaussianProcess;
      // Only candidates unlike anything tried, that might still beat the minimum seen: cells that
      // compute the same function as a tried one (e.g. every fully cut cell) would only re-measure it.
      const shortlist = this.bestByMean(scored.filter((c) => !this.isRepeat(c.described)), extreme);
      let best: Candidate<A> | undefined;
      let bestValue = Number.POSITIVE_INFINITY;
      for (const c of shortlist) {
        const p = model.predict(c.described);
        const optimistic = this.unwarp(extreme, p.mean - p.std);
        if (optimistic >= 0) continue;
        const value = optimistic * (1 - this.failureProbability(c.described));
        if (value < bestValue) {
          bestValue = value;
          best = c;
        }
      }
      if (best) return best.arch;
    }

    scored.sort((a, b) => a.rank - b.rank);
    const ref = this.ctx.objectives.map(() => REF);
    const baseVolume = hypervolume(believed, ref);
    // Common random numbers: every candidate is scored on the same standard-normal draws.
    const normals = this.acquisition === 'ehvi' ? Array.from({ length: this.draws }, () => this.models.map(() => ctx.rng.normal())) : [];
    let best = scored[0] as Candidate<A>;
    let bestScore = Number.NEGATIVE_INFINITY;
    // Optionally, cells equal in function to tried ones (every fully cut cell, for one) get only a
    // few shortlist places, the rest going to new functions.
    const shortlist = Number.isFinite(this.repeatPlaces)
      ? [...scored.filter((c) => !this.isRepeat(c.described)).slice(0, this.shortlist), ...scored.filter((c) => this.isRepeat(c.described)).slice(0, this.repeatPlaces)]
      : scored.slice(0, this.shortlist);
    for (const c of shortlist) {
      const repeat = this.isRepeat(c.described);
      const posterior = this.models.map((m) => m.predict(c.described));
      let gain: number;
      if (this.acquisition === 'ehvi') {
        gain = 0;
        for (const z of normals) gain += hypervolumeImprovement(believed, posterior.map((p, i) => this.unwarp(i, p.mean + p.std * (z[i] as number))), ref, baseVolume);
        gain /= normals.length;
      } else {
        // A cell computing the same function as a tried one gets no optimism: its accuracy is known,
        // only its cost can differ, and the models predict costs well.
        const optimism = repeat ? 0 : this.optimism;
        gain = hypervolumeImprovement(believed, posterior.map((p, i) => this.unwarp(i, p.mean - optimism * p.std)), ref, baseVolume);
      }
      const score = (repeat ? this.repeatWeight : 1) * gain * (1 - this.failureProbability(c.described)) - 1e-9 * c.rank;
      if (score > bestScore) {
        bestScore = score;
        best = c;
      }
    }
    return best.arch;
  }
}

/**
 * `n` choice vectors in which every choice of every decision appears equally often (to within one),
 * the order shuffled independently per decision: a random design that, unlike `n` independent
 * samples, gives every choice's main effect data from the first fit on.
 */
export function balancedDesign(decisions: readonly Decision[], n: number, rng: Rng): number[][] {
  const columns = decisions.map((d) => {
    const k = d.choices.length;
    // When the choices cannot all appear equally often, which get the extra places is drawn too.
    const order = Array.from({ length: k }, (_, i) => i);
    if (n % k !== 0) shuffleInPlace(order, rng);
    const column = Array.from({ length: n }, (_, i) => order[i % k] as number);
    shuffleInPlace(column, rng);
    return column;
  });
  return Array.from({ length: n }, (_, i) => columns.map((c) => c[i] as number));
}

/**
 * The screen's default ranking: min over the front `set` of max over objectives of point − member,
 * the shift every objective of `point` needs to weakly dominate some member (an additive epsilon
 * indicator; negative: it dominates one already). It is ~0 for a point next to any member and
 * positive for every point in a gap between members, so it favours small steps from the front:
 * with exact predictions that screens the gaps out, with the models it searched better than
 * dominationDepth (bench/search-quality-results.md, session 9).
 */
export function shiftToDominate(point: readonly number[], set: readonly (readonly number[])[]): number {
  return -maxOfMin(point, set, -1);
}

/**
 * How deep `point` lies behind the front `set` (losses): max over the set of min over objectives of
 * point − member. Positive: some member is better in every objective, by at least this much in
 * each. Negative: no member is as good in every objective, and the point would stay non-dominated
 * if it got this much worse in every objective, so a point that fills a gap between members scores
 * as low as one that pushes the front out.
 */
export function dominationDepth(point: readonly number[], set: readonly (readonly number[])[]): number {
  return maxOfMin(point, set, 1);
}

/** max over the set of min over objectives of sign · (point − member). */
function maxOfMin(point: readonly number[], set: readonly (readonly number[])[], sign: 1 | -1): number {
  let best = Number.NEGATIVE_INFINITY;
  for (const f of set) {
    let least = Number.POSITIVE_INFINITY;
    for (let i = 0; i < point.length; i++) least = Math.min(least, sign * ((point[i] as number) - (f[i] as number)));
    best = Math.max(best, least);
  }
  return best;
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

/** `--strategy surrogate` (the default). */
export const surrogateStrategy: StrategyDefinition = {
  name: 'surrogate',
  description: 'surrogate-assisted search: Gaussian processes screen candidates (the whole space when it lists itself) by expected hypervolume improvement (default)',
  create: (ctx) => new SurrogateStrategy(ctx),
};

/** A monotone map from normalised losses to normal scores and back (piecewise linear between the observed points). */
interface RankWarp {
  forward(y: number): number;
  inverse(z: number): number;
}

/**
 * Rank-based normal scores of the observed values (ties share a score), so a few outliers — cells
 * cut to 10 % accuracy next to a bulk at 85–94 % — do not dominate a Gaussian process fitted to
 * them. Between observed points the map is linear; beyond them it continues with the overall slope.
 */
function rankWarp(values: readonly number[]): RankWarp {
  const sorted = [...new Set(values)].sort((a, b) => a - b);
  const n = values.length;
  const ys: number[] = [];
  const zs: number[] = [];
  for (const v of sorted) {
    let below = 0;
    let equal = 0;
    for (const w of values) {
      if (w < v) below++;
      else if (w === v) equal++;
    }
    const p = (below + equal / 2) / n;
    ys.push(v);
    // Logistic approximation of the normal quantile (scale √3/π gives unit variance).
    zs.push((Math.sqrt(3) / Math.PI) * Math.log(Math.max(p, 0.5 / n) / Math.max(1 - p, 0.5 / n)));
  }
  const last = ys.length - 1;
  const slope = last > 0 && (zs[last] as number) > (zs[0] as number) ? ((ys[last] as number) - (ys[0] as number)) / ((zs[last] as number) - (zs[0] as number)) : 1;
  const through = (from: number[], to: number[], x: number, outward: number): number => {
    if (x <= (from[0] as number)) return (to[0] as number) + (x - (from[0] as number)) * outward;
    if (x >= (from[last] as number)) return (to[last] as number) + (x - (from[last] as number)) * outward;
    let lo = 0;
    let hi = last;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if ((from[mid] as number) <= x) lo = mid;
      else hi = mid;
    }
    const f0 = from[lo] as number;
    const f1 = from[hi] as number;
    return (to[lo] as number) + ((x - f0) / (f1 - f0)) * ((to[hi] as number) - (to[lo] as number));
  };
  return { forward: (y) => through(ys, zs, y, 1 / slope), inverse: (z) => through(zs, ys, z, slope) };
}
