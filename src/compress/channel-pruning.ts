import * as tf from '@tensorflow/tfjs';
import { UserError } from '../core/index.js';
import { layersModelCost } from '../space/index.js';
import { modelConfig, rebuildModel, type LayerConfig } from './model-rebuild.js';

/*
 * Structured pruning by graph analysis of the model's configuration. Every layer output carries a
 * "channel space" (its last axis). Layers that act channel by channel (batch norm, depthwise conv,
 * activations, pooling, an SE gate's reshape) keep their input's space; element-wise merges (the SE
 * multiply, a residual add) join their inputs' spaces into one group. Conv2D and Dense layers start
 * a new space (they produce it) and end the one they read (they consume it). A group can lose
 * channels when every layer touching it is one of these kinds and it reaches neither a model input
 * nor an output: then the producers' output channels, the channel-wise layers' weights and the
 * consumers' input channels are sliced together and the network computes the same function of the
 * channels kept. Anything else (flatten, concatenation, an unknown layer) makes its groups untouchable.
 */

/** Options of pruneChannels. */
export interface ChannelPruneOptions {
  /**
   * Also prune channel groups joined by a residual `Add` (a stage's shared stream). Off by default:
   * those channels feed every block of the stage, so removing them compounds the error.
   */
  residualStreams?: boolean;
  /** Never keep fewer channels than this in a group (default 1). */
  minChannels?: number;
  /**
   * Round each group's kept count to the nearest multiple of this (default 1: no rounding), never
   * above the original count nor below one multiple; a group smaller than two multiples is left
   * whole. SIMD runtimes work on channels in blocks (ONNX Runtime's CPU convolutions in blocks of 8
   * or 16), so a pruned layer with an odd count can run slower than the larger original.
   */
  multipleOf?: number;
}

/** One channel group and what pruning did to it. */
export interface ChannelGroupReport {
  /** Layers whose output channels form the group (Conv2D / Dense producers). */
  producers: string[];
  /** Layers that read the group as their input channels. */
  consumers: string[];
  /** Channels before and after. */
  channelsBefore: number;
  /** See channelsBefore. */
  channelsAfter: number;
  /** Why the group was left alone; absent when it was pruned. */
  skipped?: string;
  /** Indices (in the original model) of the channels kept, when the group lost some. */
  keptChannels?: number[];
}

/** What pruneChannels returns. */
export interface ChannelPruneResult {
  /** The smaller model (a new LayersModel; the input model is not changed). */
  model: tf.LayersModel;
  /** Every channel group found, pruned or not. */
  groups: ChannelGroupReport[];
  /** Channels removed over channels in prunable groups. */
  channelSparsity: number;
  /** Trainable parameters before and after. */
  paramsBefore: number;
  /** See paramsBefore. */
  paramsAfter: number;
  /** Multiply-adds per sample before and after. */
  macsBefore: number;
  /** See macsBefore. */
  macsAfter: number;
}

const PRODUCERS = new Set(['Conv2D', 'Dense']);
const CHANNELWISE = new Set([
  'BatchNormalization', 'GreennasFusedBatchNormalization', 'DepthwiseConv2D', 'ReLU', 'GreennasRelu6', 'LeakyReLU', 'ELU',
  'Activation', 'Dropout', 'GlobalAveragePooling2D', 'GlobalMaxPooling2D', 'MaxPooling2D', 'AveragePooling2D', 'Reshape',
]);
const MERGES = new Set(['Add', 'Multiply', 'Maximum', 'Minimum', 'Average', 'Subtract']);

/** Union-find over channel spaces, keyed by the layer whose output carries the space. */
class Groups {
  private readonly parent = new Map<string, string>();
  find(a: string): string {
    let p = this.parent.get(a) ?? a;
    if (p !== a) {
      p = this.find(p);
      this.parent.set(a, p);
    }
    return p;
  }
  union(a: string, b: string): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra !== rb) this.parent.set(ra, rb);
  }
}

interface GroupInfo {
  members: string[];
  producers: LayerConfig[];
  consumers: LayerConfig[];
  channelwise: LayerConfig[];
  frozen: string[];
  residual: boolean;
}

function inputsOf(layer: LayerConfig): string[] {
  return (layer.inboundNodes[0] ?? []).map((n) => n[0]);
}

/** Why a channel-wise-looking layer does not act channel by channel here, or undefined when it does. */
function notChannelwise(layer: LayerConfig, inputRank: number | undefined): string | undefined {
  const c = layer.config;
  if (layer.className === 'DepthwiseConv2D' && (c['depthMultiplier'] ?? 1) !== 1) return 'depthwise multiplier ≠ 1';
  if ((layer.className === 'BatchNormalization') && c['axis'] !== -1 && c['axis'] !== 3 && c['axis'] !== inputRank) return 'batch norm not over the last axis';
  if (layer.className === 'Activation' && c['activation'] === 'softmax') return 'softmax mixes channels';
  if (layer.className === 'Reshape') {
    const target = c['targetShape'] as number[];
    // Only the SE gate's [C] -> [1, 1, C] keeps the channel axis as it is.
    if (!(inputRank === 2 && target.slice(0, -1).every((d) => d === 1))) return 'reshape changes the channel axis';
  }
  return undefined;
}

function analyse(layers: LayerConfig[], outputs: string[], outputRanks: Map<string, number>): Map<string, GroupInfo> {
  const groups = new Groups();
  const frozen = new Map<string, string>();
  const freeze = (name: string, why: string) => { if (!frozen.has(name)) frozen.set(name, why); };
  for (const layer of layers) {
    const ins = inputsOf(layer);
    if (layer.inboundNodes.length > 1) {
      // A shared layer called twice: its weights serve two places, slicing it for one would break the other.
      freeze(layer.name, `${layer.name} is called more than once`);
      ins.forEach((i) => freeze(i, `${layer.name} is called more than once`));
      continue;
    }
    if (PRODUCERS.has(layer.className)) continue;
    if (MERGES.has(layer.className)) {
      for (const i of ins) groups.union(i, layer.name);
      continue;
    }
    if (CHANNELWISE.has(layer.className) && ins.length === 1) {
      const why = notChannelwise(layer, outputRanks.get(ins[0] as string));
      if (!why) {
        groups.union(ins[0] as string, layer.name);
        continue;
      }
      freeze(layer.name, `${layer.name}: ${why}`);
      freeze(ins[0] as string, `${layer.name}: ${why}`);
      continue;
    }
    const why = layer.className === 'InputLayer' ? 'model input' : `${layer.name} (${layer.className}) does not act channel by channel`;
    freeze(layer.name, why);
    ins.forEach((i) => freeze(i, why));
  }
  for (const o of outputs) freeze(o, 'model output');
  const info = new Map<string, GroupInfo>();
  const at = (name: string): GroupInfo => {
    const root = groups.find(name);
    let g = info.get(root);
    if (!g) info.set(root, (g = { members: [], producers: [], consumers: [], channelwise: [], frozen: [], residual: false }));
    return g;
  };
  for (const layer of layers) {
    const g = at(layer.name);
    g.members.push(layer.name);
    if (PRODUCERS.has(layer.className)) g.producers.push(layer);
    else if (CHANNELWISE.has(layer.className)) g.channelwise.push(layer);
    if (layer.className === 'Add') g.residual = true;
    const why = frozen.get(layer.name);
    if (why) g.frozen.push(why);
    if (PRODUCERS.has(layer.className)) for (const i of inputsOf(layer)) at(i).consumers.push(layer);
  }
  return info;
}

function channelsOf(layer: LayerConfig): number {
  return (layer.className === 'Conv2D' ? layer.config['filters'] : layer.config['units']) as number;
}

/** Sum of |w| per output channel (last axis) of a producer's kernel, scaled to mean 1 so producers of different scale weigh alike. */
function channelL1(kernel: tf.Tensor): Float32Array {
  const l1 = tf.tidy(() => {
    const s = tf.sum(tf.abs(kernel), [...Array(kernel.rank - 1).keys()]);
    return tf.div(s, tf.add(tf.mean(s), 1e-12));
  });
  const out = l1.dataSync() as Float32Array;
  l1.dispose();
  return out;
}

/** How many of a group's `channels` stay at `sparsity` (see ChannelPruneOptions). */
export function keptCount(channels: number, sparsity: number, minChannels: number, multipleOf: number): number {
  const plain = Math.max(Math.min(minChannels, channels), channels - Math.floor(channels * sparsity));
  if (multipleOf <= 1) return plain;
  if (channels < 2 * multipleOf) return channels;
  const rounded = Math.max(multipleOf, Math.round(plain / multipleOf) * multipleOf);
  return Math.min(channels, Math.max(rounded, Math.min(minChannels, channels)));
}

/**
 * Structured channel pruning: in every group of channels that can safely lose some (see above; by
 * default not a residual stream), removes the fraction `sparsity` with the lowest L1 norm of the
 * producing kernels (summed over producers, each scaled to mean 1), keeping at least `minChannels`.
 * Rebuilds a smaller LayersModel from the edited configuration with the kept slices of every weight,
 * so parameters and multiply-adds really drop. The input model is left as it was.
 */
export function pruneChannels(model: tf.LayersModel, sparsity: number, options: ChannelPruneOptions = {}): ChannelPruneResult {
  if (!(Number.isFinite(sparsity) && sparsity >= 0 && sparsity < 1)) {
    throw new UserError(`--sparsity must be a fraction in [0, 1), got ${sparsity}. Fix: pass e.g. --sparsity 0.5.`, { subject: '--sparsity' });
  }
  const minChannels = options.minChannels ?? 1;
  const config = modelConfig(model);
  const byName = new Map(model.layers.map((l) => [l.name, l]));
  const outputRanks = new Map(model.layers.map((l) => [l.name, (Array.isArray((l.outputShape as unknown[])[0]) ? (l.outputShape as tf.Shape[])[0]! : (l.outputShape as tf.Shape)).length]));
  const info = analyse(config.layers, config.outputLayers.map((o) => o[0]), outputRanks);

  const keepOut = new Map<string, number[]>(); // layer -> kept output channels (producers and channel-wise layers)
  const keepIn = new Map<string, number[]>(); // consumer -> kept input channels
  const reports: ChannelGroupReport[] = [];
  let removed = 0;
  let considered = 0;
  for (const g of info.values()) {
    if (g.producers.length === 0) continue;
    const channels = channelsOf(g.producers[0]!);
    const report: ChannelGroupReport = {
      producers: g.producers.map((p) => p.name), consumers: g.consumers.map((c) => c.name), channelsBefore: channels, channelsAfter: channels,
    };
    reports.push(report);
    if (g.frozen.length > 0) report.skipped = g.frozen[0];
    else if (g.residual && !options.residualStreams) report.skipped = 'residual stream (shared by the blocks of a stage)';
    else if (g.producers.some((p) => channelsOf(p) !== channels)) report.skipped = 'producers disagree on the channel count';
    if (report.skipped) continue;
    considered += channels;
    const keep = keptCount(channels, sparsity, minChannels, options.multipleOf ?? 1);
    if (keep === channels) continue;
    const score = new Float32Array(channels);
    for (const p of g.producers) {
      const kernel = byName.get(p.name)!.getWeights()[0] as tf.Tensor;
      channelL1(kernel).forEach((v, i) => { score[i] = (score[i] as number) + v; });
    }
    const kept = [...score.keys()].sort((a, b) => (score[b] as number) - (score[a] as number) || a - b).slice(0, keep).sort((a, b) => a - b);
    for (const name of g.members) keepOut.set(name, kept);
    for (const c of g.consumers) keepIn.set(c.name, kept);
    report.channelsAfter = keep;
    report.keptChannels = kept;
    removed += channels - keep;
  }

  for (const layer of config.layers) {
    const kept = keepOut.get(layer.name);
    if (!kept) continue;
    if (layer.className === 'Conv2D') layer.config['filters'] = kept.length;
    else if (layer.className === 'Dense') layer.config['units'] = kept.length;
    else if (layer.className === 'Reshape') {
      const target = [...(layer.config['targetShape'] as number[])];
      target[target.length - 1] = kept.length;
      layer.config['targetShape'] = target;
    }
  }
  const pruned = rebuildModel(config, (name) => {
    const layer = byName.get(name);
    if (!layer) return undefined;
    const out = keepOut.get(name);
    const inp = keepIn.get(name);
    const cls = layer.getClassName();
    return tf.tidy(() => layer.weights.map((w, i) => {
      let v = layer.getWeights()[i] as tf.Tensor;
      const isKernel = w.shape.length > 1;
      if (cls === 'Conv2D' || cls === 'Dense') {
        if (isKernel && inp) v = tf.gather(v, inp, v.rank - 2);
        if (out) v = tf.gather(v, out, v.rank - 1);
      } else if (out) {
        // Channel-wise weights: a depthwise kernel [kh, kw, C, 1] on axis 2, vectors [C] on axis 0.
        v = tf.gather(v, out, cls === 'DepthwiseConv2D' && isKernel ? 2 : 0);
      }
      return tf.clone(v);
    }));
  });
  const before = layersModelCost(model);
  const after = layersModelCost(pruned);
  return {
    model: pruned, groups: reports, channelSparsity: considered ? removed / considered : 0,
    paramsBefore: before.params, paramsAfter: after.params, macsBefore: before.macs, macsAfter: after.macs,
  };
}
