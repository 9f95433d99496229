import type { ArchJson } from '../../space/index.js';
import type { Strategy, StrategyContext, StrategyDefinition } from '../strategy.js';
import { proposeUnseen } from './common.js';

/** Uniform random search over the space's own sampler; the baseline every other strategy must beat. */
export class RandomStrategy<A extends ArchJson> implements Strategy<A> {
  readonly name = 'random';
  constructor(private readonly ctx: StrategyContext<A>) {}

  ask(): A {
    return proposeUnseen(this.ctx, () => this.ctx.space.sample(this.ctx.rng));
  }

  tell(): void {}
}

/** `--strategy random`. */
export const randomStrategy: StrategyDefinition = {
  name: 'random',
  description: 'uniform random sampling of the space (baseline)',
  create: (ctx) => new RandomStrategy(ctx),
};
