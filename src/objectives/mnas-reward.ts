import { UserError } from '../core/index.js';
import type { Objective } from './objective.js';

/** Settings of the MnasNet reward ACC × (LAT / T)^w (Tan et al. 2019). */
export interface MnasRewardOptions {
  /** Metric holding the accuracy (a fraction), e.g. `accuracy`. */
  accuracyMetric: string;
  /** Metric holding the latency in ms, e.g. `latency.edgegpu`. */
  latencyMetric: string;
  /** Target latency T in ms. */
  targetLatencyMs: number;
  /** Exponent when LAT ≤ T (default −0.07). */
  alpha?: number;
  /** Exponent when LAT > T (default −0.07, the soft constraint of the paper). */
  beta?: number;
}

/** MnasNet's default exponent for both sides of the target. */
export const MNAS_DEFAULT_EXPONENT = -0.07;

/** ACC × (LAT / T)^w with w = alpha when LAT ≤ T, else beta. */
export function mnasReward(accuracy: number, latencyMs: number, targetLatencyMs: number, alpha = MNAS_DEFAULT_EXPONENT, beta = MNAS_DEFAULT_EXPONENT): number {
  const w = latencyMs <= targetLatencyMs ? alpha : beta;
  return accuracy * Math.pow(latencyMs / targetLatencyMs, w);
}

/** The MnasNet reward as a single maximised objective (the scalarised search mode). */
export function mnasRewardObjective(options: MnasRewardOptions): Objective {
  const { accuracyMetric, latencyMetric, targetLatencyMs } = options;
  const alpha = options.alpha ?? MNAS_DEFAULT_EXPONENT;
  const beta = options.beta ?? MNAS_DEFAULT_EXPONENT;
  if (!Number.isFinite(targetLatencyMs) || targetLatencyMs <= 0) {
    throw new UserError(`--latency-target ${targetLatencyMs} is not a positive number of milliseconds; pass e.g. --latency-target 5`, { subject: '--latency-target' });
  }
  for (const [flag, v] of [['alpha', alpha], ['beta', beta]] as const) {
    if (!Number.isFinite(v)) throw new UserError(`MnasNet reward exponent ${flag} must be a finite number, got ${v}`, { subject: `--${flag}` });
  }
  return {
    name: 'mnas_reward',
    direction: 'maximize',
    unit: 'reward',
    requires: [accuracyMetric, latencyMetric],
    value: (m) => mnasReward(m[accuracyMetric] as number, m[latencyMetric] as number, targetLatencyMs, alpha, beta),
  };
}
