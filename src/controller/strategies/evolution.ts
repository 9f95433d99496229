import type { ArchJson } from '../../space/index.js';
import type { Strategy, StrategyContext, StrategyDefinition, TrialOutcome } from '../strategy.js';
import { crowdedBetter, defaultPopulationSize, evaluatedOf, proposeUnseen, rankAndCrowding, type Evaluated } from './common.js';

/** Settings of regularized evolution. */
export interface EvolutionOptions {
  /** Population size P (default: budget / 5, between 10 and 50). */
  populationSize?: number;
  /** Tournament size S (default: P / 4, at least 2). */
  tournamentSize?: number;
}

/**
 * Regularized (aging) evolution, Real et al. 2019: a FIFO population of the P most recent completed
 * trials; each child mutates the winner of a tournament of S random members, and the oldest member
 * dies. With several objectives the tournament compares Pareto rank within the population, then
 * crowding distance.
 */
export class EvolutionStrategy<A extends ArchJson> implements Strategy<A> {
  readonly name = 'evolution';
  private readonly population: Evaluated<A>[] = [];
  private readonly populationSize: number;
  private readonly tournamentSize: number;
  private asked = 0;

  constructor(
    private readonly ctx: StrategyContext<A>,
    options: EvolutionOptions = {},
  ) {
    this.populationSize = options.populationSize ?? defaultPopulationSize(ctx.budget);
    this.tournamentSize = options.tournamentSize ?? Math.max(2, Math.round(this.populationSize / 4));
  }

  ask(): A {
    const { ctx } = this;
    this.asked++;
    // The initial population is random, as in the paper; so is any ask before a first success.
    if (this.asked <= this.populationSize || this.population.length === 0) return proposeUnseen(ctx, () => ctx.space.sample(ctx.rng));
    const keys = rankAndCrowding(this.population.map((p) => p.losses));
    let best = ctx.rng.int(this.population.length);
    for (let t = 1; t < this.tournamentSize; t++) {
      const c = ctx.rng.int(this.population.length);
      if (crowdedBetter(c, best, keys)) best = c;
    }
    const parent = (this.population[best] as Evaluated<A>).arch;
    return proposeUnseen(ctx, () => ctx.space.mutate(parent, ctx.rng));
  }

  tell(outcome: TrialOutcome<A>): void {
    const e = evaluatedOf(outcome);
    if (!e) return;
    this.population.push(e);
    if (this.population.length > this.populationSize) this.population.shift();
  }
}

/** `--strategy evolution`. */
export const evolutionStrategy: StrategyDefinition = {
  name: 'evolution',
  description: 'regularized (aging) evolution with tournament selection on Pareto rank and crowding (Real et al. 2019)',
  create: (ctx) => new EvolutionStrategy(ctx),
};
