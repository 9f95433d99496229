import { UserError } from '../core/index.js';
import type { ProxyBudget } from '../trainer/proxy-training.js';

/*
 * What a compression does, as plain data with its validation; loads no tfjs, so the CLI checks every
 * flag before anything heavy is imported.
 */

/** Knowledge-distillation settings (Hinton et al. 2015). */
export interface DistillationSettings {
  /** Softmax temperature T applied to both teacher and student logits (> 0). */
  temperature: number;
  /** Weight α of the soft-target term; 1 − α weighs the hard-label cross-entropy. In [0, 1]. */
  alpha: number;
}

/** Checks temperature and α, naming the flag at fault. */
export function validateDistillation(s: DistillationSettings): DistillationSettings {
  if (!(Number.isFinite(s.temperature) && s.temperature > 0)) {
    throw new UserError(`--temperature must be a positive number, got ${s.temperature}. Fix: pass e.g. --temperature 4.`, { subject: '--temperature' });
  }
  if (!(Number.isFinite(s.alpha) && s.alpha >= 0 && s.alpha <= 1)) {
    throw new UserError(`--alpha must be a fraction in [0, 1], got ${s.alpha}. Fix: pass e.g. --alpha 0.7.`, { subject: '--alpha' });
  }
  return s;
}

/**
 * Compression steps, applied in the order given. `fold` (batch norms and ReLUs folded into the
 * convolution before them: the same function with fewer layers, inference only) is an addition to
 * the three.
 */
export const COMPRESS_STEPS = ['prune', 'quantize', 'distill', 'fold'] as const;
/** One compression step. */
export type CompressStepName = (typeof COMPRESS_STEPS)[number];
/** Pruning methods. */
export const PRUNE_METHODS = ['magnitude', 'channels'] as const;
/** Quantization formats. */
export const QUANTIZE_FORMATS = ['fp16', 'int8'] as const;

/** What to do to each model: the steps and their settings, validated by validateCompressPlan. */
export interface CompressPlan {
  /** Steps in order (each at most once). */
  steps: CompressStepName[];
  /**
   * Pruning method and the fraction removed; with `dropGates` (channels only) the squeeze-and-excitation
   * gates are removed first, as whole modules; `multipleOf` (channels only) rounds kept channel counts
   * (see ChannelPruneOptions.multipleOf).
   */
  prune: { method: (typeof PRUNE_METHODS)[number]; sparsity: number; dropGates?: boolean; multipleOf?: number };
  /** Quantization format. */
  quantize: (typeof QUANTIZE_FORMATS)[number];
  /** Distillation temperature and α. */
  distill: DistillationSettings;
  /** Budget of every fine-tuning / distillation pass (the run's proxy budget, epochs maybe overridden). */
  budget: ProxyBudget;
}

/** Checks a plan before any work: known steps, no repeats, quantization last, settings in range. */
export function validateCompressPlan(plan: CompressPlan): CompressPlan {
  if (plan.steps.length === 0) throw new UserError(`--steps is empty. Fix: pass e.g. --steps prune,distill.`, { subject: '--steps' });
  for (const s of plan.steps) {
    if (!(COMPRESS_STEPS as readonly string[]).includes(s)) {
      throw new UserError(`--steps: '${s}' is not a step. Fix: use some of ${COMPRESS_STEPS.join(', ')}, comma-separated, in the order to apply them.`, { subject: '--steps' });
    }
  }
  if (new Set(plan.steps).size !== plan.steps.length) throw new UserError(`--steps names a step twice (${plan.steps.join(',')}). Fix: name each step once.`, { subject: '--steps' });
  const q = plan.steps.indexOf('quantize');
  if (q >= 0 && q !== plan.steps.length - 1) {
    throw new UserError(`--steps: quantize must be the last step (training after it would undo the rounding), got ${plan.steps.join(',')}. Fix: move quantize to the end.`, { subject: '--steps' });
  }
  const f = plan.steps.indexOf('fold');
  const lastTraining = Math.max(plan.steps.indexOf('prune'), plan.steps.indexOf('distill'));
  if (f >= 0 && f < lastTraining) {
    throw new UserError(`--steps: fold must come after prune and distill (a folded model has no batch statistics left to train), got ${plan.steps.join(',')}. Fix: move fold after them.`, { subject: '--steps' });
  }
  if (!(PRUNE_METHODS as readonly string[]).includes(plan.prune.method)) {
    throw new UserError(`--prune must be ${PRUNE_METHODS.join(' or ')}, got '${plan.prune.method}'. Fix: pass --prune channels.`, { subject: '--prune' });
  }
  if (plan.prune.dropGates && plan.prune.method !== 'channels') {
    throw new UserError(`--drop-gates removes whole modules and goes with --prune channels, not '${plan.prune.method}'. Fix: pass --prune channels or drop --drop-gates.`, { subject: '--drop-gates' });
  }
  if (plan.prune.multipleOf !== undefined && plan.prune.method !== 'channels') {
    throw new UserError(`--channel-multiple rounds channel counts and goes with --prune channels, not '${plan.prune.method}'. Fix: pass --prune channels or drop --channel-multiple.`, { subject: '--channel-multiple' });
  }
  if (!(Number.isFinite(plan.prune.sparsity) && plan.prune.sparsity >= 0 && plan.prune.sparsity < 1)) {
    throw new UserError(`--sparsity must be a fraction in [0, 1), got '${plan.prune.sparsity}'. Fix: pass e.g. --sparsity 0.5.`, { subject: '--sparsity' });
  }
  if (!(QUANTIZE_FORMATS as readonly string[]).includes(plan.quantize)) {
    throw new UserError(`--quantize must be ${QUANTIZE_FORMATS.join(' or ')}, got '${plan.quantize}'. Fix: pass --quantize int8.`, { subject: '--quantize' });
  }
  validateDistillation(plan.distill);
  return plan;
}

