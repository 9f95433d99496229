import { UserError, type Rng } from '../../src/core/index.js';
import {
  canonicalJson,
  checkChoice,
  checkEncodingLength,
  checkKeys,
  choiceAt,
  choiceIndex,
  isJsonObject,
  type Decision,
  type Task,
} from '../../src/space/index.js';

/*
 * A post-LN transformer encoder text classifier over token ids: embedding + learned positions, 1–4
 * encoder layers that each choose their own heads and feed-forward width (as HAT does, so the space
 * has more than a few hundred members), one model width, and a pooling choice.
 */

/** Choices of the number of encoder layers. */
export const LAYER_COUNT_CHOICES = [1, 2, 3, 4] as const;
/** Choices of the model width d_model. */
export const D_MODEL_CHOICES = [32, 64, 128] as const;
/** Choices of the sequence pooling before the classifier: mean or max over positions, or a learned class token. */
export const POOLING_CHOICES = ['mean', 'cls', 'max'] as const;
/** Choices of attention heads per layer (each divides every d_model choice). */
export const HEADS_CHOICES = [1, 2, 4] as const;
/** Choices of the feed-forward hidden width per layer, as a multiple of d_model. */
export const FFN_MULT_CHOICES = [1, 2, 4] as const;
/** Most layers an architecture can have (the encoding holds this many layer slots). */
export const MAX_LAYERS = LAYER_COUNT_CHOICES[LAYER_COUNT_CHOICES.length - 1];

/** The choices of one encoder layer. */
export type TransformerLayer = {
  /** Attention heads. */
  heads: (typeof HEADS_CHOICES)[number];
  /** Feed-forward hidden width = ffnMult × dModel. */
  ffnMult: (typeof FFN_MULT_CHOICES)[number];
};

/** One architecture of the transformer space (plain JSON). */
export type TransformerArch = {
  /** Model width. */
  dModel: (typeof D_MODEL_CHOICES)[number];
  /** Pooling before the classifier. */
  pooling: (typeof POOLING_CHOICES)[number];
  /** The encoder layers, 1 to MAX_LAYERS. */
  layers: TransformerLayer[];
};

/**
 * Decisions in encoding order: `layers`, `dModel`, `pooling`, then `layer{i}.heads`, `layer{i}.ffnMult`
 * for i = 1…4. Slots past the layer count are inactive: encode writes 0 there and decode ignores them.
 */
export const TRANSFORMER_DECISIONS: readonly Decision[] = [
  { name: 'layers', choices: LAYER_COUNT_CHOICES },
  { name: 'dModel', choices: D_MODEL_CHOICES },
  { name: 'pooling', choices: POOLING_CHOICES },
  ...Array.from({ length: MAX_LAYERS }, (_, i) => [
    { name: `layer${i + 1}.heads`, choices: HEADS_CHOICES },
    { name: `layer${i + 1}.ffnMult`, choices: FFN_MULT_CHOICES },
  ]).flat(),
];

const WHAT = 'transformer architecture';
const HEAD = 3;

/** Choice indices in TRANSFORMER_DECISIONS order (inactive layer slots are 0). */
export function encodeTransformer(arch: TransformerArch): number[] {
  const d = TRANSFORMER_DECISIONS;
  const out = [choiceIndex(d[0]!, arch.layers.length), choiceIndex(d[1]!, arch.dModel), choiceIndex(d[2]!, arch.pooling)];
  for (let i = 0; i < MAX_LAYERS; i++) {
    const layer = arch.layers[i];
    out.push(layer ? choiceIndex(d[HEAD + 2 * i]!, layer.heads) : 0, layer ? choiceIndex(d[HEAD + 2 * i + 1]!, layer.ffnMult) : 0);
  }
  return out;
}

/** Inverse of encodeTransformer; inactive slots are ignored. */
export function decodeTransformer(choices: readonly number[]): TransformerArch {
  checkEncodingLength(TRANSFORMER_DECISIONS, choices);
  const at = <T extends string | number | boolean>(i: number): T => choiceAt<T>(TRANSFORMER_DECISIONS[i]!, choices[i]);
  const count = at<number>(0);
  for (let i = HEAD; i < choices.length; i++) at(i); // range-check inactive slots too
  return {
    dModel: at(1),
    pooling: at(2),
    layers: Array.from({ length: count }, (_, i) => ({ heads: at(HEAD + 2 * i), ffnMult: at(HEAD + 2 * i + 1) })),
  };
}

/** Checks a user's JSON and returns it as a TransformerArch (a fresh copy), or throws a UserError naming the field. */
export function validateTransformer(value: unknown): TransformerArch {
  if (!isJsonObject(value)) {
    throw new UserError(
      `${WHAT}: expected an object like {"dModel":64,"pooling":"mean","layers":[{"heads":4,"ffnMult":2}]}; got ${JSON.stringify(value) ?? String(value)}. Fix the architecture JSON.`,
    );
  }
  checkKeys(WHAT, 'arch', value, ['dModel', 'pooling', 'layers']);
  const dModel = checkChoice(WHAT, 'arch.dModel', value['dModel'], D_MODEL_CHOICES);
  const pooling = checkChoice(WHAT, 'arch.pooling', value['pooling'], POOLING_CHOICES);
  const layers = value['layers'];
  if (!Array.isArray(layers) || layers.length < 1 || layers.length > MAX_LAYERS) {
    throw new UserError(
      `${WHAT}: arch.layers must be an array of 1 to ${MAX_LAYERS} layers; got ${Array.isArray(layers) ? `${layers.length} entries` : JSON.stringify(layers) ?? 'nothing'}. Fix the architecture JSON.`,
    );
  }
  return {
    dModel,
    pooling,
    layers: layers.map((layer: unknown, i) => {
      const path = `arch.layers[${i}]`;
      if (!isJsonObject(layer)) throw new UserError(`${WHAT}: ${path} must be an object with fields heads, ffnMult. Fix the architecture JSON.`);
      checkKeys(WHAT, path, layer, ['heads', 'ffnMult']);
      return {
        heads: checkChoice(WHAT, `${path}.heads`, layer['heads'], HEADS_CHOICES),
        ffnMult: checkChoice(WHAT, `${path}.ffnMult`, layer['ffnMult'], FFN_MULT_CHOICES),
      };
    }),
  };
}

function sampleLayer(rng: Rng): TransformerLayer {
  return { heads: rng.pick(HEADS_CHOICES), ffnMult: rng.pick(FFN_MULT_CHOICES) };
}

/** Draws the layer count, width, pooling and every present layer's choices uniformly. */
export function sampleTransformer(rng: Rng): TransformerArch {
  const count = rng.pick(LAYER_COUNT_CHOICES);
  const dModel = rng.pick(D_MODEL_CHOICES);
  const pooling = rng.pick(POOLING_CHOICES);
  return { dModel, pooling, layers: Array.from({ length: count }, () => sampleLayer(rng)) };
}

/** Canonical key: equal keys mean the same network. */
export function keyTransformer(arch: TransformerArch): string {
  return canonicalJson(arch);
}

function other<T>(choices: readonly T[], current: T, rng: Rng): T {
  const rest = choices.filter((c) => c !== current);
  return rng.pick(rest);
}

/**
 * Changes one active decision: the layer count (a new layer draws its choices, a removed one is the
 * last), the width, the pooling, or one layer's heads or feed-forward width.
 */
export function mutateTransformer(arch: TransformerArch, rng: Rng): TransformerArch {
  const child: TransformerArch = { dModel: arch.dModel, pooling: arch.pooling, layers: arch.layers.map((l) => ({ ...l })) };
  const site = rng.int(3 + 2 * arch.layers.length);
  if (site === 0) {
    const count = other(LAYER_COUNT_CHOICES, arch.layers.length as (typeof LAYER_COUNT_CHOICES)[number], rng);
    while (child.layers.length > count) child.layers.pop();
    while (child.layers.length < count) child.layers.push(sampleLayer(rng));
  } else if (site === 1) child.dModel = other(D_MODEL_CHOICES, arch.dModel, rng);
  else if (site === 2) child.pooling = other(POOLING_CHOICES, arch.pooling, rng);
  else {
    const layer = child.layers[Math.floor((site - 3) / 2)]!;
    if ((site - 3) % 2 === 0) layer.heads = other(HEADS_CHOICES, layer.heads, rng);
    else layer.ffnMult = other(FFN_MULT_CHOICES, layer.ffnMult, rng);
  }
  return child;
}

/**
 * Uniform crossover: width, pooling and depth each from either parent; layer i from either parent
 * that has one (both when both do, with equal odds).
 */
export function crossoverTransformer(a: TransformerArch, b: TransformerArch, rng: Rng): TransformerArch {
  const count = rng.next() < 0.5 ? a.layers.length : b.layers.length;
  return {
    dModel: rng.next() < 0.5 ? a.dModel : b.dModel,
    pooling: rng.next() < 0.5 ? a.pooling : b.pooling,
    layers: Array.from({ length: count }, (_, i) => {
      const fromA = a.layers[i];
      const fromB = b.layers[i];
      const pick = fromA && fromB ? (rng.next() < 0.5 ? fromA : fromB) : (fromA ?? fromB)!;
      return { ...pick };
    }),
  };
}

/** Short label, e.g. `d64 mean 4h×2|2h×1`: width, pooling, then heads×ffnMult per layer. */
export function labelTransformer(arch: TransformerArch): string {
  return `d${arch.dModel} ${arch.pooling} ${arch.layers.map((l) => `${l.heads}h×${l.ffnMult}`).join('|')}`;
}

/** Sequence length and vocabulary of a text task, or a UserError when the task is not a text task. */
export function textShape(task: Task): { seqLen: number; vocabSize: number } {
  const [seqLen] = task.inputShape;
  if (task.kind !== 'text' || task.inputShape.length !== 1 || !Number.isInteger(seqLen) || seqLen! < 1) {
    throw new UserError(
      `the transformer space needs a text task with input shape [sequenceLength]; dataset ${task.dataset} is ${task.kind} ` +
        `with shape [${task.inputShape.join(', ')}]. Use a text dataset or another --space.`,
    );
  }
  if (task.vocabSize === undefined || !Number.isInteger(task.vocabSize) || task.vocabSize < 2) {
    throw new UserError(`the transformer space needs the task's vocabulary size; dataset ${task.dataset} gives ${String(task.vocabSize)}. The text loader must set vocabSize.`);
  }
  if (!Number.isInteger(task.numClasses) || task.numClasses < 2) {
    throw new UserError(`the transformer space needs at least 2 classes; dataset ${task.dataset} has ${task.numClasses}.`);
  }
  return { seqLen: seqLen!, vocabSize: task.vocabSize };
}
