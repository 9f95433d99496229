import type { Rng } from '../../core/index.js';
import { crowdingDistance, nonDominatedSort } from '../../objectives/index.js';
import type { ArchJson } from '../../space/index.js';
import type { StrategyContext, TrialOutcome } from '../strategy.js';

/** How many proposals a strategy tries before giving up on avoiding seen keys. */
export const UNSEEN_ATTEMPTS = 64;

/**
 * Draws from `generate` until it yields an architecture whose key is unseen; after UNSEEN_ATTEMPTS it
 * tries plain samples, and after as many again it returns the last one anyway, so a nearly exhausted
 * space never makes a strategy loop forever (the controller then de-duplicates).
 */
export function proposeUnseen<A extends ArchJson>(ctx: StrategyContext<A>, generate: (attempt: number) => A, rng: Rng = ctx.rng): A {
  let last: A | undefined;
  for (let i = 0; i < UNSEEN_ATTEMPTS; i++) {
    last = generate(i);
    if (!ctx.isSeen(ctx.space.key(last))) return last;
  }
  for (let i = 0; i < UNSEEN_ATTEMPTS; i++) {
    last = ctx.space.sample(rng);
    if (!ctx.isSeen(ctx.space.key(last))) return last;
  }
  return last as A;
}

/** A completed trial as strategies keep it. */
export interface Evaluated<A extends ArchJson> {
  /** The architecture. */
  arch: A;
  /** Its key. */
  key: string;
  /** Losses (smaller is better), in objective order. */
  losses: number[];
}

/** A completed outcome as Evaluated, or undefined for a failed one. */
export function evaluatedOf<A extends ArchJson>(outcome: TrialOutcome<A>): Evaluated<A> | undefined {
  if (outcome.state !== 'complete' || !outcome.losses) return undefined;
  return { arch: outcome.arch, key: outcome.key, losses: [...outcome.losses] };
}

/** Pareto rank (0 best) and crowding distance of every point, NSGA-II's selection keys. */
export function rankAndCrowding(points: readonly (readonly number[])[]): { rank: number[]; crowding: number[] } {
  const rank = new Array<number>(points.length).fill(0);
  const crowding = new Array<number>(points.length).fill(0);
  nonDominatedSort(points).forEach((front, r) => {
    const d = crowdingDistance(points, front);
    front.forEach((i, k) => {
      rank[i] = r;
      crowding[i] = d[k] as number;
    });
  });
  return { rank, crowding };
}

/** True when candidate i is better than j by (rank ascending, crowding descending). */
export function crowdedBetter(i: number, j: number, keys: { rank: number[]; crowding: number[] }): boolean {
  const ri = keys.rank[i] as number;
  const rj = keys.rank[j] as number;
  if (ri !== rj) return ri < rj;
  return (keys.crowding[i] as number) > (keys.crowding[j] as number);
}

/** Budget-scaled population size for the evolutionary strategies: about a fifth of the budget, 10 to 50. */
export function defaultPopulationSize(budget: number): number {
  return Math.min(50, Math.max(10, Math.round(budget / 5)));
}
