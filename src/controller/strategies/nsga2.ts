import type { ArchJson } from '../../space/index.js';
import type { Strategy, StrategyContext, StrategyDefinition, TrialOutcome } from '../strategy.js';
import { crowdedBetter, defaultPopulationSize, evaluatedOf, proposeUnseen, rankAndCrowding, type Evaluated } from './common.js';

/** Settings of NSGA-II. */
export interface Nsga2Options {
  /** Parents kept per generation, N (default: budget / 5, between 10 and 50). */
  populationSize?: number;
  /** Probability that a child is a crossover of two parents rather than a copy (default 0.9). */
  crossoverProbability?: number;
  /** Probability of a mutation after crossover (default 0.5); a copy is always mutated. */
  mutationProbability?: number;
}

/**
 * NSGA-II (Deb et al. 2002) in ask/tell form. Generation 0 is N random architectures; whenever N new
 * trials have completed, environmental selection keeps the best N of parents ∪ offspring by
 * non-dominated rank and crowding distance. Children come from binary crowded tournaments, the space's
 * crossover (when it has one) and its mutation. Selection happens at ask time on what has been told,
 * so outstanding asks and out-of-order tells are fine.
 */
export class Nsga2Strategy<A extends ArchJson> implements Strategy<A> {
  readonly name = 'nsga2';
  private readonly n: number;
  private readonly pc: number;
  private readonly pm: number;
  private parents: Evaluated<A>[] = [];
  private parentKeys: { rank: number[]; crowding: number[] } = { rank: [], crowding: [] };
  private offspring: Evaluated<A>[] = [];
  private asked = 0;

  constructor(
    private readonly ctx: StrategyContext<A>,
    options: Nsga2Options = {},
  ) {
    this.n = options.populationSize ?? defaultPopulationSize(ctx.budget);
    this.pc = options.crossoverProbability ?? 0.9;
    this.pm = options.mutationProbability ?? 0.5;
  }

  private select(): void {
    const pool = [...this.parents, ...this.offspring];
    const keys = rankAndCrowding(pool.map((p) => p.losses));
    const order = pool.map((_, i) => i).sort((i, j) => (crowdedBetter(i, j, keys) ? -1 : crowdedBetter(j, i, keys) ? 1 : i - j));
    this.parents = order.slice(0, this.n).map((i) => pool[i] as Evaluated<A>);
    this.parentKeys = rankAndCrowding(this.parents.map((p) => p.losses));
    this.offspring = [];
  }

  private tournament(): A {
    const { rng } = this.ctx;
    const a = rng.int(this.parents.length);
    const b = rng.int(this.parents.length);
    return (this.parents[crowdedBetter(b, a, this.parentKeys) ? b : a] as Evaluated<A>).arch;
  }

  ask(): A {
    const { ctx } = this;
    this.asked++;
    if (this.offspring.length >= this.n || (this.parents.length === 0 && this.offspring.length > 0 && this.asked > this.n)) this.select();
    if (this.asked <= this.n || this.parents.length === 0) return proposeUnseen(ctx, () => ctx.space.sample(ctx.rng));
    const { space, rng } = ctx;
    return proposeUnseen(ctx, () => {
      const p1 = this.tournament();
      const p2 = this.tournament();
      let child = p1;
      let changed = false;
      if (space.crossover && rng.next() < this.pc) {
        child = space.crossover(p1, p2, rng);
        changed = space.key(child) !== space.key(p1) && space.key(child) !== space.key(p2);
      }
      if (!changed || rng.next() < this.pm) child = space.mutate(child, rng);
      return child;
    });
  }

  tell(outcome: TrialOutcome<A>): void {
    const e = evaluatedOf(outcome);
    if (e) this.offspring.push(e);
  }
}

/** `--strategy nsga2`. */
export const nsga2Strategy: StrategyDefinition = {
  name: 'nsga2',
  description: 'NSGA-II: generations selected by non-dominated rank and crowding, crossover + mutation (Deb et al. 2002)',
  create: (ctx) => new Nsga2Strategy(ctx),
};
