import type * as tf from '@tensorflow/tfjs';
import type { CostTally, Task } from '../space/index.js';
import { BERT_BASE_CONFIG, BERT_UNCASED_VOCAB, DISTILBERT_CONFIG, bertCost, buildBert, scaledBertConfig } from './bert.js';
import { buildMobilenetv2, mobilenetv2Cost } from './mobilenetv2.js';
import { buildResnet50, resnet50Cost, type BaselineBuildOptions } from './resnet50.js';
import { textSize, type ScaledVariant } from './variant.js';

/** Ids of the baseline architectures. */
export const BASELINE_NAMES = ['resnet50', 'mobilenetv2', 'bert-base', 'distilbert'] as const;

/** One baseline id. */
export type BaselineName = (typeof BASELINE_NAMES)[number];

/** A published architecture greennas compares its searched models against. */
export interface BaselineDefinition {
  /** Id, as in `greennas baselines` and the baseline space's `model` field. */
  name: BaselineName;
  /** Display name, e.g. `ResNet-50`. */
  title: string;
  /** Which tasks it applies to. */
  kind: 'image' | 'text';
  /** The implementation whose parameter count this one reproduces. */
  reference: string;
  /** The task the reference counts are taken at (ImageNet 224×224×3 with its 1000-class head; BERT at sequence 128, no head). */
  referenceTask: Task;
  /** Whether the reference count includes a classifier head. */
  referenceHead: boolean;
  /** Exact counts of the variant built for a task; `head: false` leaves out the text classifier (the reference text counts have none). */
  cost(variant: ScaledVariant, task: Task, options?: { head: boolean }): CostTally;
  /** Builds the variant for a task as a tfjs LayersModel that outputs logits. */
  build(variant: ScaledVariant, task: Task, options?: BaselineBuildOptions): tf.LayersModel;
}

/** ImageNet-1k at 224×224×3: where torchvision's counts are taken. */
export const IMAGENET_TASK: Task = { dataset: 'imagenet-1k', inputShape: [224, 224, 3], numClasses: 1000, kind: 'image' };
/** A 128-token uncased WordPiece input: where the BERT multiply-adds are counted (no classes: the base model has no head). */
export const BERT_REFERENCE_TASK: Task = { dataset: 'wordpiece-uncased', inputShape: [128], numClasses: 0, kind: 'text', vocabSize: BERT_UNCASED_VOCAB };

function textCost(reference: typeof BERT_BASE_CONFIG) {
  return (variant: ScaledVariant, task: Task, options = { head: true }): CostTally =>
    bertCost(scaledBertConfig(reference, variant, textSize(task, 'bert').seqLen), task, options);
}

/** The four baselines of issue #7, in table order. */
export const BASELINES: readonly BaselineDefinition[] = [
  {
    name: 'resnet50', title: 'ResNet-50', kind: 'image', reference: 'torchvision.models.resnet50', referenceTask: IMAGENET_TASK, referenceHead: true,
    cost: (v, t) => resnet50Cost(v, t),
    build: buildResnet50,
  },
  {
    name: 'mobilenetv2', title: 'MobileNetV2', kind: 'image', reference: 'torchvision.models.mobilenet_v2', referenceTask: IMAGENET_TASK, referenceHead: true,
    cost: (v, t) => mobilenetv2Cost(v, t),
    build: buildMobilenetv2,
  },
  {
    name: 'bert-base', title: 'BERT-base', kind: 'text', reference: 'Hugging Face bert-base-uncased (BertModel)', referenceTask: BERT_REFERENCE_TASK, referenceHead: false,
    cost: textCost(BERT_BASE_CONFIG),
    build: (v, t, o) => buildBert(scaledBertConfig(BERT_BASE_CONFIG, v, textSize(t, 'bert-base').seqLen), t, 'bert_base', o),
  },
  {
    name: 'distilbert', title: 'DistilBERT', kind: 'text', reference: 'Hugging Face distilbert-base-uncased (DistilBertModel)', referenceTask: BERT_REFERENCE_TASK, referenceHead: false,
    cost: textCost(DISTILBERT_CONFIG),
    build: (v, t, o) => buildBert(scaledBertConfig(DISTILBERT_CONFIG, v, textSize(t, 'distilbert').seqLen), t, 'distilbert', o),
  },
];

/** The definition of a baseline by id (undefined when unknown). */
export function baselineByName(name: string): BaselineDefinition | undefined {
  return BASELINES.find((b) => b.name === name);
}

/** The reference architecture (no scaling). */
export const FULL_SIZE: ScaledVariant = { width: 1, depth: 1 };

/** Exact counts of a baseline at its reference input, as `greennas baselines` lists them. */
export function referenceCost(def: BaselineDefinition): CostTally {
  return def.cost(FULL_SIZE, def.referenceTask, { head: def.referenceHead });
}

/**
 * Proxy-scale variants `greennas compare` trains in full on the run's data and budget (the full-size
 * models are measured for a few steps and extrapolated): 1/4 of ResNet-50's width and depth (blocks
 * 1, 1, 2, 1), half of MobileNetV2's, and two 128-wide layers of BERT / DistilBERT (2 heads of 64).
 */
export const PROXY_VARIANTS: Readonly<Record<BaselineName, ScaledVariant>> = {
  resnet50: { width: 0.25, depth: 0.25 },
  mobilenetv2: { width: 0.5, depth: 0.5 },
  'bert-base': { width: 0.125, depth: 0.125 },
  distilbert: { width: 0.125, depth: 0.25 },
};
