import type { Rng } from '../core/index.js';
import type { Objective } from '../objectives/objective.js';
import type { ArchJson, SearchSpace } from '../space/search-space.js';

/** What a strategy is given when it is created. */
export interface StrategyContext<A extends ArchJson = ArchJson> {
  /** The space to propose from. */
  space: SearchSpace<A>;
  /** The strategy's own seeded generator; all its randomness comes from here. */
  rng: Rng;
  /** The objectives, in order; TrialOutcome.losses follows this order. */
  objectives: readonly Objective[];
  /** Planned number of evaluations. */
  budget: number;
  /** True when an architecture key was already proposed in this run (evaluated, failed or pending). */
  isSeen(key: string): boolean;
}

/** The result of one evaluation, as told to a strategy. */
export interface TrialOutcome<A extends ArchJson = ArchJson> {
  /** The architecture that was evaluated. */
  arch: A;
  /** Its space key. */
  key: string;
  /** `failed` trials carry no losses. */
  state: 'complete' | 'failed';
  /** Objective values oriented so that smaller is better, in StrategyContext.objectives order. */
  losses?: number[];
}

/**
 * A search strategy in ask / tell form. ask() may be called several times before the matching
 * tell()s, and tells may arrive in any order (workers finish out of order). A strategy must be
 * deterministic given its Rng and the sequence of calls, so that a resumed run replays exactly.
 */
export interface Strategy<A extends ArchJson = ArchJson> {
  /** The strategy's id, e.g. `evolution`. */
  readonly name: string;
  /** Proposes the next architecture; should avoid keys for which ctx.isSeen() is true. */
  ask(): A;
  /** Reports an evaluation's outcome. */
  tell(outcome: TrialOutcome<A>): void;
}

/** A named strategy constructor, as listed by the CLI. */
export interface StrategyDefinition {
  /** Id used with --strategy. */
  name: string;
  /** One line for help and docs. */
  description: string;
  /** Creates a fresh strategy for one run. */
  create<A extends ArchJson>(context: StrategyContext<A>): Strategy<A>;
}
