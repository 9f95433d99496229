import type * as tf from '@tensorflow/tfjs';
import { layersModelCost } from '../space/index.js';
import { modelConfig, rebuildModel, type LayerConfig } from './model-rebuild.js';

/*
 * Structured pruning of whole modules: squeeze-and-excitation gates. A gate multiplies a feature map
 * [H, W, C] by a per-channel factor [1, 1, C] computed from the map itself (global pool, two dense
 * layers, reshape). Removing it keeps the map as it is: the network loses the re-weighting, which
 * fine-tuning then makes up for, and the runtime loses a pool, two matrix products and a broadcast
 * multiply per gate. At batch 1 those small operators cost as much as the convolutions around them
 * (ONNX Runtime also reorders its blocked layout around each one), so the gates are most of what
 * channel pruning alone cannot remove.
 */

/** What removeGates did. */
export interface GateRemovalResult {
  /** The model without its gates (a new LayersModel; the input model is not changed). */
  model: tf.LayersModel;
  /** Multiply layers removed, one per gate. */
  gates: string[];
  /** Every layer removed (the gates' branches and their multiplies). */
  layersRemoved: string[];
  /** Trainable parameters before and after. */
  paramsBefore: number;
  /** See paramsBefore. */
  paramsAfter: number;
  /** Multiply-adds per sample before and after. */
  macsBefore: number;
  /** See macsBefore. */
  macsAfter: number;
}

type Inbound = LayerConfig['inboundNodes'][number][number];

function inboundOf(layer: LayerConfig): Inbound[] {
  return layer.inboundNodes[0] ?? [];
}

function shapeOf(layer: tf.layers.Layer): (number | null)[] {
  const s = layer.outputShape as (number | null)[] | (number | null)[][];
  return (Array.isArray(s[0]) ? s[0] : s) as (number | null)[];
}

/**
 * The layers of the gate feeding `multiply` through `gateInput`, when they form a closed branch off
 * `main`: every one reads only `main` or other branch layers and feeds only the branch or the
 * multiply. Undefined when the gate is not such a branch (then it is left alone).
 */
function gateBranch(gateInput: string, main: string, multiply: string, byName: Map<string, LayerConfig>, consumers: Map<string, string[]>): Set<string> | undefined {
  const branch = new Set<string>();
  const stack = [gateInput];
  let readsMain = false;
  while (stack.length > 0) {
    const name = stack.pop() as string;
    if (name === main) {
      readsMain = true;
      continue;
    }
    if (branch.has(name)) continue;
    const layer = byName.get(name);
    if (!layer || layer.className === 'InputLayer' || layer.inboundNodes.length !== 1) return undefined;
    branch.add(name);
    for (const i of inboundOf(layer)) stack.push(i[0]);
  }
  if (!readsMain) return undefined;
  for (const name of branch) {
    if ((consumers.get(name) ?? []).some((c) => c !== multiply && !branch.has(c))) return undefined;
  }
  return branch;
}

/**
 * Removes every squeeze-and-excitation gate: a two-input Multiply whose one input is [1, 1, C] and
 * computed only from its other input [H, W, C]. Consumers of the multiply read the feature map
 * directly; the gate's layers and weights are dropped; every other layer keeps its weights.
 */
export function removeGates(model: tf.LayersModel): GateRemovalResult {
  const config = modelConfig(model);
  const byName = new Map(config.layers.map((l) => [l.name, l]));
  const layers = new Map(model.layers.map((l) => [l.name, l]));
  const consumers = new Map<string, string[]>();
  for (const l of config.layers) for (const i of inboundOf(l)) consumers.set(i[0], [...(consumers.get(i[0]) ?? []), l.name]);
  const outputs = new Set(config.outputLayers.map((o) => o[0]));

  const removed = new Set<string>();
  const replacement = new Map<string, Inbound>(); // multiply -> the inbound entry of its main input
  for (const l of config.layers) {
    const ins = inboundOf(l);
    if (l.className !== 'Multiply' || ins.length !== 2 || l.inboundNodes.length !== 1) continue;
    const spatial = ins.map((i) => {
      const s = shapeOf(layers.get(i[0]) as tf.layers.Layer);
      return s.length === 4 ? (s[1] ?? 0) * (s[2] ?? 0) : -1;
    });
    const gateAt = spatial.findIndex((hw) => hw === 1);
    const mainAt = 1 - gateAt;
    if (gateAt < 0 || !((spatial[mainAt] as number) > 1)) continue;
    const main = ins[mainAt] as Inbound;
    const branch = gateBranch((ins[gateAt] as Inbound)[0], main[0], l.name, byName, consumers);
    if (!branch || [...branch].some((b) => outputs.has(b))) continue;
    for (const b of branch) removed.add(b);
    removed.add(l.name);
    replacement.set(l.name, main);
  }

  const resolve = (entry: Inbound): Inbound => {
    let e = entry;
    for (let r = replacement.get(e[0]); r; r = replacement.get(e[0])) e = [r[0], r[1], r[2], e[3]];
    return e;
  };
  config.layers = config.layers.filter((l) => !removed.has(l.name));
  for (const l of config.layers) l.inboundNodes = l.inboundNodes.map((node) => node.map(resolve));
  config.outputLayers = config.outputLayers.map((o) => {
    const r = resolve([o[0], o[1], o[2], {}]);
    return [r[0], r[1], r[2]];
  });
  const next = rebuildModel(config, (name) => layers.get(name)?.getWeights().map((w) => w.clone()));
  const before = layersModelCost(model);
  const after = layersModelCost(next);
  return {
    model: next, gates: [...replacement.keys()], layersRemoved: [...removed],
    paramsBefore: before.params, paramsAfter: after.params, macsBefore: before.macs, macsAfter: after.macs,
  };
}
