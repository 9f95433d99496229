import type * as tf from '@tensorflow/tfjs';
import { UserError, type Rng } from '../core/index.js';
import { canonicalJson, checkChoice, checkEncodingLength, checkKeys, choiceAt, choiceIndex, costMetricSpecs, isJsonObject, type Cost, type Decision, type SearchSpace, type Task } from '../space/index.js';
import { BASELINE_NAMES, baselineByName, type BaselineDefinition, type BaselineName } from './catalogue.js';
import type { BaselineBuildOptions } from './resnet50.js';

/** Width multipliers a baseline architecture may take (1 = reference). */
export const BASELINE_WIDTH_CHOICES = [1, 0.5, 0.25, 0.125] as const;
/** Depth multipliers a baseline architecture may take (1 = reference). */
export const BASELINE_DEPTH_CHOICES = [1, 0.5, 0.25, 0.125] as const;

/** A baseline, whole or scaled, as plain JSON: the arch of the baseline space. */
export type BaselineArch = {
  /** Which baseline. */
  model: BaselineName;
  /** Width multiplier. */
  width: (typeof BASELINE_WIDTH_CHOICES)[number];
  /** Depth multiplier. */
  depth: (typeof BASELINE_DEPTH_CHOICES)[number];
};

/** Version of the baseline space's definition; bump when an architecture's layer layout changes. */
export const BASELINE_SPACE_VERSION = '1.0.0';

const DECISIONS: readonly Decision[] = [
  { name: 'model', choices: BASELINE_NAMES },
  { name: 'width', choices: BASELINE_WIDTH_CHOICES },
  { name: 'depth', choices: BASELINE_DEPTH_CHOICES },
];

const WHAT = 'baseline architecture';

function definition(arch: BaselineArch): BaselineDefinition {
  return baselineByName(arch.model) as BaselineDefinition;
}

/** Checks a user's JSON and returns it as a BaselineArch, or throws a UserError naming the field. */
export function validateBaseline(value: unknown): BaselineArch {
  if (!isJsonObject(value)) throw new UserError(`${WHAT}: expected an object like {"model":"resnet50","width":1,"depth":1}; got ${JSON.stringify(value) ?? String(value)}. Fix the architecture JSON.`);
  checkKeys(WHAT, 'arch', value, ['model', 'width', 'depth']);
  return {
    model: checkChoice(WHAT, 'arch.model', value['model'], BASELINE_NAMES),
    width: checkChoice(WHAT, 'arch.width', value['width'], BASELINE_WIDTH_CHOICES),
    depth: checkChoice(WHAT, 'arch.depth', value['depth'], BASELINE_DEPTH_CHOICES),
  };
}

function decode(choices: readonly number[]): BaselineArch {
  checkEncodingLength(DECISIONS, choices);
  return { model: choiceAt(DECISIONS[0]!, choices[0]), width: choiceAt(DECISIONS[1]!, choices[1]), depth: choiceAt(DECISIONS[2]!, choices[2]) };
}

function encode(arch: BaselineArch): number[] {
  return [choiceIndex(DECISIONS[0]!, arch.model), choiceIndex(DECISIONS[1]!, arch.width), choiceIndex(DECISIONS[2]!, arch.depth)];
}

/** Display label: the model's name, with its multipliers when scaled (e.g. `ResNet-50 ×0.25w ×0.25d`). */
export function labelBaseline(arch: BaselineArch): string {
  const title = definition(arch).title;
  return arch.width === 1 && arch.depth === 1 ? title : `${title} ×${arch.width}w ×${arch.depth}d`;
}

/**
 * The baselines as a trained search space, so the proxy-trial machinery trains, probes and meters
 * them exactly as it does search trials (a worker loads this module by path). Its "search" is a
 * catalogue: model × width × depth, each at the task's input size or sequence length.
 */
export const baselineSpace: SearchSpace<BaselineArch> & {
  build(arch: BaselineArch, task: Task, options?: BaselineBuildOptions): tf.LayersModel;
  cost(arch: BaselineArch, task: Task): Cost;
} = {
  name: 'baselines',
  version: BASELINE_SPACE_VERSION,
  description: 'ResNet-50, MobileNetV2, BERT-base and DistilBERT, whole or scaled in width and depth',
  datasets: ['fashion-mnist', 'spam-assassin'],
  decisions: () => DECISIONS,
  encode,
  decode,
  validate: validateBaseline,
  sample: (rng: Rng) => decode(DECISIONS.map((d) => rng.int(d.choices.length))),
  mutate: (arch: BaselineArch, rng: Rng) => {
    const enc = encode(arch);
    const i = rng.int(enc.length);
    const n = DECISIONS[i]!.choices.length;
    enc[i] = (enc[i]! + 1 + rng.int(n - 1)) % n;
    return decode(enc);
  },
  key: (arch) => canonicalJson(arch),
  metrics: () => costMetricSpecs(),
  build: (arch: BaselineArch, task: Task, options: BaselineBuildOptions = {}) => definition(validateBaseline(arch)).build(arch, task, options),
  cost: (arch, task) => {
    const { params, macs } = definition(arch).cost(arch, task);
    return { params, macs };
  },
  label: labelBaseline,
};

export default baselineSpace;
