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
 * A MnasNet-style factorized hierarchical space scaled for small images (28×28 Fashion-MNIST): the
 * network is cut into fixed stages (base channels and stride fixed, as in MnasNet), and each stage
 * chooses its own layer count, expansion ratio, kernel, squeeze-and-excitation and skip; one global
 * width multiplier scales every channel count.
 */

/** Fixed per-stage base output channels (before the width multiplier) and the stride of the stage's first layer. */
export const MOBILENET_STAGES: readonly { readonly channels: number; readonly stride: number }[] = [
  { channels: 16, stride: 2 },
  { channels: 24, stride: 1 },
  { channels: 32, stride: 2 },
  { channels: 48, stride: 1 },
  { channels: 64, stride: 1 },
];
/** Base channels of the 3×3 stride-1 stem convolution (equal to stage 1, so its first layer can be residual). */
export const MOBILENET_STEM_CHANNELS = 16;
/** Stride of the 3×3 stem: small images are halved once before the inverted-residual stages. */
export const MOBILENET_STEM_STRIDE = 2;
/** Choices of the global width multiplier. */
export const WIDTH_CHOICES = [0.5, 0.75, 1.0] as const;
/** Choices of layers per stage. */
export const LAYER_CHOICES = [1, 2, 3] as const;
/** Choices of the inverted-residual expansion ratio (1 drops the expansion convolution, as MobileNetV2 does). */
export const EXPAND_CHOICES = [1, 3, 6] as const;
/** Choices of the depthwise kernel size. */
export const KERNEL_CHOICES = [3, 5] as const;
/** Choices of squeeze-and-excitation. */
export const SE_CHOICES = [false, true] as const;
/** Choices of skip connection: an identity residual where shapes allow, or none. */
export const SKIP_CHOICES = ['none', 'residual'] as const;
/** Squeeze-and-excitation bottleneck as a fraction of the block's input channels (MnasNet's 0.25). */
export const SE_RATIO = 0.25;
/** Channel counts are rounded to a multiple of this (MobileNet's `make_divisible`, with 4 to keep small widths apart). */
export const CHANNEL_DIVISOR = 4;

/** The choices of one stage. */
export type MobilenetStage = {
  /** Number of inverted-residual layers. */
  layers: (typeof LAYER_CHOICES)[number];
  /** Expansion ratio of the 1×1 expansion convolution. */
  expand: (typeof EXPAND_CHOICES)[number];
  /** Depthwise kernel size. */
  kernel: (typeof KERNEL_CHOICES)[number];
  /** Squeeze-and-excitation after the depthwise convolution. */
  se: boolean;
  /** Identity residual on every layer whose input and output shapes match, or none. */
  skip: (typeof SKIP_CHOICES)[number];
};

/** One architecture of the mobilenet space (plain JSON). */
export type MobilenetArch = {
  /** Global width multiplier. */
  width: (typeof WIDTH_CHOICES)[number];
  /** One entry per stage of MOBILENET_STAGES, in order. */
  stages: MobilenetStage[];
};

const STAGE_FIELDS = ['layers', 'expand', 'kernel', 'se', 'skip'] as const;

/** Decisions in encoding order: `width`, then `stage{i}.{layers,expand,kernel,se,skip}` for i = 1…5. */
export const MOBILENET_DECISIONS: readonly Decision[] = [
  { name: 'width', choices: WIDTH_CHOICES },
  ...MOBILENET_STAGES.flatMap((_, s) => [
    { name: `stage${s + 1}.layers`, choices: LAYER_CHOICES },
    { name: `stage${s + 1}.expand`, choices: EXPAND_CHOICES },
    { name: `stage${s + 1}.kernel`, choices: KERNEL_CHOICES },
    { name: `stage${s + 1}.se`, choices: SE_CHOICES },
    { name: `stage${s + 1}.skip`, choices: SKIP_CHOICES },
  ]),
];

const WHAT = 'mobilenet architecture';

/** MobileNet's `make_divisible`: nearest multiple of the divisor, never more than 10 % below `v`. */
export function makeDivisible(v: number, divisor = CHANNEL_DIVISOR): number {
  let rounded = Math.max(divisor, Math.floor((v + divisor / 2) / divisor) * divisor);
  if (rounded < 0.9 * v) rounded += divisor;
  return rounded;
}

/** Choice indices in MOBILENET_DECISIONS order. */
export function encodeMobilenet(arch: MobilenetArch): number[] {
  const out = [choiceIndex(MOBILENET_DECISIONS[0]!, arch.width)];
  arch.stages.forEach((stage, s) => {
    STAGE_FIELDS.forEach((field, f) => out.push(choiceIndex(MOBILENET_DECISIONS[1 + s * STAGE_FIELDS.length + f]!, stage[field])));
  });
  return out;
}

/** Inverse of encodeMobilenet. */
export function decodeMobilenet(choices: readonly number[]): MobilenetArch {
  checkEncodingLength(MOBILENET_DECISIONS, choices);
  const at = <T extends string | number | boolean>(i: number): T => choiceAt<T>(MOBILENET_DECISIONS[i]!, choices[i]);
  return {
    width: at(0),
    stages: MOBILENET_STAGES.map((_, s) => {
      const base = 1 + s * STAGE_FIELDS.length;
      return { layers: at(base), expand: at(base + 1), kernel: at(base + 2), se: at(base + 3), skip: at(base + 4) };
    }),
  };
}

/** Checks a user's JSON and returns it as a MobilenetArch (a fresh copy), or throws a UserError naming the field. */
export function validateMobilenet(value: unknown): MobilenetArch {
  if (!isJsonObject(value)) {
    throw new UserError(`${WHAT}: expected an object like {"width":1,"stages":[…${MOBILENET_STAGES.length} stages…]}; got ${JSON.stringify(value) ?? String(value)}. Fix the architecture JSON.`);
  }
  checkKeys(WHAT, 'arch', value, ['width', 'stages']);
  const width = checkChoice(WHAT, 'arch.width', value['width'], WIDTH_CHOICES);
  const stages = value['stages'];
  if (!Array.isArray(stages) || stages.length !== MOBILENET_STAGES.length) {
    throw new UserError(
      `${WHAT}: arch.stages must be an array of ${MOBILENET_STAGES.length} stages; got ${Array.isArray(stages) ? `${stages.length} entries` : JSON.stringify(stages) ?? 'nothing'}. Fix the architecture JSON.`,
    );
  }
  return {
    width,
    stages: stages.map((stage: unknown, s) => {
      const path = `arch.stages[${s}]`;
      if (!isJsonObject(stage)) throw new UserError(`${WHAT}: ${path} must be an object with fields ${STAGE_FIELDS.join(', ')}. Fix the architecture JSON.`);
      checkKeys(WHAT, path, stage, STAGE_FIELDS);
      return {
        layers: checkChoice(WHAT, `${path}.layers`, stage['layers'], LAYER_CHOICES),
        expand: checkChoice(WHAT, `${path}.expand`, stage['expand'], EXPAND_CHOICES),
        kernel: checkChoice(WHAT, `${path}.kernel`, stage['kernel'], KERNEL_CHOICES),
        se: checkChoice(WHAT, `${path}.se`, stage['se'], SE_CHOICES),
        skip: checkChoice(WHAT, `${path}.skip`, stage['skip'], SKIP_CHOICES),
      };
    }),
  };
}

/** Draws every decision uniformly. */
export function sampleMobilenet(rng: Rng): MobilenetArch {
  return decodeMobilenet(MOBILENET_DECISIONS.map((d) => rng.int(d.choices.length)));
}

/** Whether a stage's skip choice changes the network (some layer of it has matching input and output shapes). */
export function stageCanSkip(arch: MobilenetArch, s: number): boolean {
  const stage = arch.stages[s]!;
  if (stage.layers > 1) return true;
  // Only the first layer exists: residual needs stride 1 and unchanged channels.
  const inC = s === 0 ? makeDivisible(MOBILENET_STEM_CHANNELS * arch.width) : makeDivisible(MOBILENET_STAGES[s - 1]!.channels * arch.width);
  return MOBILENET_STAGES[s]!.stride === 1 && inC === makeDivisible(MOBILENET_STAGES[s]!.channels * arch.width);
}

/** The architecture with choices that do not change the network set to their first option. */
export function canonicalMobilenet(arch: MobilenetArch): MobilenetArch {
  return {
    width: arch.width,
    stages: arch.stages.map((stage, s) => ({ ...stage, skip: stageCanSkip(arch, s) ? stage.skip : 'none' })),
  };
}

/** Canonical key: equal keys mean the same network (a skip that cannot apply is ignored). */
export function keyMobilenet(arch: MobilenetArch): string {
  return canonicalJson(canonicalMobilenet(arch));
}

/**
 * Changes one decision to a different choice. Decisions whose change would leave the network as it
 * is (a skip that cannot apply) are not picked, so the result is always a different network.
 */
export function mutateMobilenet(arch: MobilenetArch, rng: Rng): MobilenetArch {
  const before = keyMobilenet(arch);
  const enc = encodeMobilenet(arch);
  // A handful of redraws suffices: at most 4 of the 26 decisions can be no-ops (stage 2–5 skips).
  for (let attempt = 0; attempt < 100; attempt++) {
    const i = rng.int(enc.length);
    const n = MOBILENET_DECISIONS[i]!.choices.length;
    const next = [...enc];
    next[i] = (enc[i]! + 1 + rng.int(n - 1)) % n;
    const child = decodeMobilenet(next);
    if (keyMobilenet(child) !== before) return child;
  }
  throw new Error('mobilenet mutate found no changing decision in 100 draws (a bug)');
}

/** Stage-wise uniform crossover: the width and each whole stage come from either parent with equal odds. */
export function crossoverMobilenet(a: MobilenetArch, b: MobilenetArch, rng: Rng): MobilenetArch {
  return {
    width: rng.next() < 0.5 ? a.width : b.width,
    stages: a.stages.map((stage, s) => ({ ...(rng.next() < 0.5 ? stage : b.stages[s]!) })),
  };
}

/** Short label, e.g. `w0.75 2x6k5se+r|1x3k3…`: per stage layers×expand, kernel, `se`, `+r` for residual. */
export function labelMobilenet(arch: MobilenetArch): string {
  const c = canonicalMobilenet(arch);
  return `w${c.width} ${c.stages.map((st) => `${st.layers}x${st.expand}k${st.kernel}${st.se ? 'se' : ''}${st.skip === 'residual' ? '+r' : ''}`).join('|')}`;
}

/** One inverted-residual layer with every shape resolved, shared by build and cost so they cannot disagree. */
export interface BlockPlan {
  /** Stage index (0-based) and layer index within it. */
  stage: number;
  layer: number;
  /** Input height, width and channels. */
  inH: number;
  inW: number;
  inC: number;
  /** Channels after expansion (equal to inC when the expansion ratio is 1 and no expansion conv exists). */
  expandC: number;
  /** Output channels. */
  outC: number;
  /** Depthwise kernel and stride. */
  kernel: number;
  stride: number;
  /** Squeeze-and-excitation bottleneck channels; 0 when the layer has no SE. */
  seC: number;
  /** Whether the identity residual is added. */
  residual: boolean;
}

/** The resolved network: input, stem, layers and head. */
export interface MobilenetPlan {
  /** Image height, width and channels of one sample. */
  inH: number;
  inW: number;
  inC: number;
  /** Stem output channels. */
  stemC: number;
  /** Every inverted-residual layer in order. */
  blocks: BlockPlan[];
  /** Channels into global average pooling. */
  headC: number;
  /** Output classes. */
  numClasses: number;
}

/** Image height, width and channels of a task, or a UserError when the task is not an image task. */
export function imageShape(task: Task): [number, number, number] {
  const shape = task.inputShape;
  const ok = shape.every((d) => Number.isInteger(d) && d > 0);
  if (task.kind !== 'image' || !ok || (shape.length !== 2 && shape.length !== 3)) {
    throw new UserError(
      `the mobilenet space needs an image task with input shape [height, width] or [height, width, channels]; ` +
        `dataset ${task.dataset} is ${task.kind} with shape [${shape.join(', ')}]. Use an image dataset or another --space.`,
    );
  }
  return [shape[0]!, shape[1]!, shape[2] ?? 1];
}

/** Resolves an architecture against a task into concrete layer shapes. */
export function planMobilenet(arch: MobilenetArch, task: Task): MobilenetPlan {
  if (!Number.isInteger(task.numClasses) || task.numClasses < 2) {
    throw new UserError(`the mobilenet space needs at least 2 classes; dataset ${task.dataset} has ${task.numClasses}.`);
  }
  const [inH, inW, inC] = imageShape(task);
  const stemC = makeDivisible(MOBILENET_STEM_CHANNELS * arch.width);
  const blocks: BlockPlan[] = [];
  let h = Math.ceil(inH / MOBILENET_STEM_STRIDE);
  let w = Math.ceil(inW / MOBILENET_STEM_STRIDE);
  let c = stemC;
  arch.stages.forEach((stage, s) => {
    const outC = makeDivisible(MOBILENET_STAGES[s]!.channels * arch.width);
    for (let l = 0; l < stage.layers; l++) {
      const stride = l === 0 ? MOBILENET_STAGES[s]!.stride : 1;
      blocks.push({
        stage: s,
        layer: l,
        inH: h,
        inW: w,
        inC: c,
        expandC: c * stage.expand,
        outC,
        kernel: stage.kernel,
        stride,
        seC: stage.se ? Math.max(1, Math.floor(c * SE_RATIO)) : 0,
        residual: stage.skip === 'residual' && stride === 1 && c === outC,
      });
      h = Math.ceil(h / stride);
      w = Math.ceil(w / stride);
      c = outC;
    }
  });
  return { inH, inW, inC, stemC, blocks, headC: c, numClasses: task.numClasses };
}
