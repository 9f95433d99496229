import type { Rng } from '../../core/index.js';
import type { ArchJson } from '../../space/index.js';
import type { Strategy, StrategyContext, StrategyDefinition, TrialOutcome } from '../strategy.js';
import { proposeUnseen } from './common.js';

/** Settings of the policy-gradient strategy. */
export interface ReinforceOptions {
  /** Step size on the logits (default 0.5). */
  learningRate?: number;
  /** Decay of the moving-average reward baseline (default 0.9). */
  baselineDecay?: number;
}

/** Index drawn from softmax(logits). */
function sampleSoftmax(logits: Float64Array, rng: Rng): number {
  const p = softmax(logits);
  let u = rng.next();
  for (let i = 0; i < p.length; i++) {
    u -= p[i] as number;
    if (u < 0) return i;
  }
  return p.length - 1;
}

function softmax(logits: Float64Array): Float64Array {
  let max = Number.NEGATIVE_INFINITY;
  for (const l of logits) max = Math.max(max, l);
  const out = new Float64Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += out[i] = Math.exp((logits[i] as number) - max);
  for (let i = 0; i < out.length; i++) out[i]! /= sum;
  return out;
}

/**
 * MnasNet-style policy gradient (REINFORCE, Williams 1992) over the space's categorical decisions: one
 * softmax over the choices of each decision, sampled independently; after each tell the logits move
 * along (reward − baseline) · ∇ log π(arch), with an exponential moving-average baseline.
 *
 * Reward: objectives are normalised by the range seen so far, and with several objectives scalarised
 * by an augmented Chebyshev function with a fresh random weight vector per tell (ParEGO style), so the
 * policy is pulled toward different parts of the front over time instead of one fixed trade-off. A
 * failed trial gets the worst reward, so the policy learns to avoid what a device cannot run.
 * Tells that arrive out of order use the current policy for the gradient (an off-policy
 * approximation that is harmless at these step sizes).
 */
export class ReinforceStrategy<A extends ArchJson> implements Strategy<A> {
  readonly name = 'reinforce';
  private readonly logits: Float64Array[];
  private readonly lr: number;
  private readonly decay: number;
  private baseline: number | undefined;
  private readonly lo: number[];
  private readonly hi: number[];

  constructor(
    private readonly ctx: StrategyContext<A>,
    options: ReinforceOptions = {},
  ) {
    this.logits = ctx.space.decisions().map((d) => new Float64Array(d.choices.length));
    this.lr = options.learningRate ?? 0.5;
    this.decay = options.baselineDecay ?? 0.9;
    this.lo = ctx.objectives.map(() => Number.POSITIVE_INFINITY);
    this.hi = ctx.objectives.map(() => Number.NEGATIVE_INFINITY);
  }

  ask(): A {
    const { ctx } = this;
    return proposeUnseen(ctx, () => ctx.space.decode(this.logits.map((l) => sampleSoftmax(l, ctx.rng))));
  }

  private reward(losses: readonly number[] | undefined): number {
    const weights = this.ctx.objectives.map(() => -Math.log(1 - this.ctx.rng.next()));
    if (!losses) return -1.05;
    losses.forEach((v, i) => {
      this.lo[i] = Math.min(this.lo[i] as number, v);
      this.hi[i] = Math.max(this.hi[i] as number, v);
    });
    const total = weights.reduce((s, w) => s + w, 0);
    let worst = 0;
    let sum = 0;
    losses.forEach((v, i) => {
      const range = (this.hi[i] as number) - (this.lo[i] as number);
      const z = range > 0 ? (v - (this.lo[i] as number)) / range : 0;
      const wz = ((weights[i] as number) / total) * z;
      worst = Math.max(worst, wz);
      sum += wz;
    });
    return -(worst + 0.05 * sum);
  }

  tell(outcome: TrialOutcome<A>): void {
    const r = this.reward(outcome.state === 'complete' ? outcome.losses : undefined);
    if (this.baseline === undefined) {
      this.baseline = r;
      return;
    }
    const advantage = r - this.baseline;
    this.baseline = this.decay * this.baseline + (1 - this.decay) * r;
    const choices = this.ctx.space.encode(outcome.arch);
    this.logits.forEach((l, d) => {
      const p = softmax(l);
      const a = choices[d] as number;
      for (let c = 0; c < l.length; c++) l[c]! += this.lr * advantage * ((c === a ? 1 : 0) - (p[c] as number));
    });
  }
}

/** `--strategy reinforce`. */
export const reinforceStrategy: StrategyDefinition = {
  name: 'reinforce',
  description: 'MnasNet-style policy gradient over the decisions (softmax per decision, moving-average baseline, random-weight Chebyshev reward)',
  create: (ctx) => new ReinforceStrategy(ctx),
};
