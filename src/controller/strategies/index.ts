/** The built-in search strategies, as the CLI lists them. */
import type { StrategyDefinition } from '../strategy.js';
import { evolutionStrategy } from './evolution.js';
import { nsga2Strategy } from './nsga2.js';
import { randomStrategy } from './random.js';
import { reinforceStrategy } from './reinforce.js';
import { surrogateStrategy } from './surrogate.js';

export { RandomStrategy, randomStrategy } from './random.js';
export { EvolutionStrategy, evolutionStrategy, type EvolutionOptions } from './evolution.js';
export { Nsga2Strategy, nsga2Strategy, type Nsga2Options } from './nsga2.js';
export { ReinforceStrategy, reinforceStrategy, type ReinforceOptions } from './reinforce.js';
export { SurrogateStrategy, surrogateStrategy, type SurrogateOptions } from './surrogate.js';
export { HammingGaussianProcess } from './gaussian-process.js';

/** Every built-in strategy, in the order `--help` lists them. */
export const strategies: readonly StrategyDefinition[] = [surrogateStrategy, evolutionStrategy, nsga2Strategy, reinforceStrategy, randomStrategy];

/** Name of the strategy used when --strategy is not given. */
export const DEFAULT_STRATEGY = surrogateStrategy.name;
