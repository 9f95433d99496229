import * as tf from '@tensorflow/tfjs';
import { GreennasError, VERSION } from '../../core/index.js';
import {
  attr,
  encodeOnnx,
  floatValueInfo,
  ONNX_IR_VERSION,
  ONNX_OPSET,
  OnnxGraphBuilder,
  type OnnxAttribute,
  type OnnxModel,
} from './onnx-model.js';

/** What layersModelToOnnx produced. */
export interface OnnxExport {
  /** The model as ONNX protobuf bytes. */
  bytes: Uint8Array;
  /** The same model as protobuf objects (for quantization and tests). */
  model: OnnxModel;
  /** Name of the graph input (the tfjs input layer's name). */
  inputName: string;
  /** Name of the graph output. */
  outputName: string;
  /** The input's shape without the batch dimension, in tfjs's (channels-last) order, as the ONNX model takes it. */
  inputShape: number[];
  /** Batch normalisations folded into the convolution before them. */
  foldedBatchNorms: number;
}

/** Options of layersModelToOnnx. */
export interface OnnxExportOptions {
  /** Graph name (default: the model's name). */
  graphName?: string;
  /** Key/value metadata stored in the model (run id, trial id…). */
  metadata?: Record<string, string>;
}

/** Layer classes the converter maps, for messages. */
export const ONNX_SUPPORTED_LAYERS = [
  'InputLayer', 'Conv2D', 'DepthwiseConv2D', 'Dense', 'BatchNormalization', 'GreennasFusedBatchNormalization', 'ReLU', 'GreennasRelu6',
  'Activation', 'Add', 'Multiply', 'GlobalAveragePooling2D', 'GlobalMaxPooling2D', 'MaxPooling2D', 'AveragePooling2D', 'Reshape', 'Flatten', 'Dropout',
] as const;

type Shape = (number | null)[];

/** A tfjs tensor as it lives in the ONNX graph: every rank-4 tensor is kept NCHW, every other one as tfjs has it. */
interface Value {
  /** ONNX tensor name. */
  name: string;
  /** tfjs shape (batch first, channels last). */
  shape: Shape;
  /**
   * For a rank-2 value that is a global pool's output (or a 1×1 layer on one): the same numbers as
   * an NCHW [N, C, 1, 1] tensor. A squeeze-and-excitation gate stays 4-D through it (pool, 1×1 convs,
   * multiply), so ONNX Runtime keeps its blocked layout instead of reordering around Flatten and Gemm.
   */
  pooled?: string;
}

interface LayerNode {
  layer: tf.layers.Layer;
  className: string;
  config: Record<string, unknown>;
  inputs: string[];
}

const NHWC_TO_NCHW = [0, 3, 1, 2];
const NCHW_TO_NHWC = [0, 2, 3, 1];

function fail(message: string): never {
  throw new GreennasError(message, 'E_EXPORT_UNSUPPORTED');
}

function pair(v: unknown, what: string): [number, number] {
  const a = Array.isArray(v) ? v : [v, v];
  if (a.length !== 2 || !a.every((x) => Number.isInteger(x))) fail(`${what} must be one or two integers, got ${JSON.stringify(v)}`);
  return [a[0] as number, a[1] as number];
}

function dimsOf(shape: Shape, what: string): number[] {
  return shape.slice(1).map((d) => {
    if (d === null || d === undefined) fail(`${what}: dimension unknown; ONNX export needs fixed shapes besides the batch`);
    return d;
  });
}

/** Each layer's inputs by the names of the layers that produce them (one inbound node: no shared layers). */
function layerGraph(model: tf.LayersModel): { nodes: LayerNode[]; inputLayers: string[]; outputLayer: string } {
  const nodes: LayerNode[] = [];
  const outputName = (l: tf.layers.Layer, tensorIndex: number) => {
    if (tensorIndex !== 0) fail(`layer ${l.name} has several outputs; ONNX export takes single-output layers`);
    return l.name;
  };
  for (const layer of model.layers) {
    const className = layer.getClassName();
    const inbound = (layer as unknown as { inboundNodes: { inboundLayers: tf.layers.Layer[]; tensorIndices: number[] }[] }).inboundNodes;
    if (inbound.length > 1) fail(`layer ${layer.name} is shared by ${inbound.length} calls; ONNX export takes each layer once`);
    const node = inbound[0];
    const inputs = className === 'InputLayer' || !node ? [] : node.inboundLayers.map((l, i) => outputName(l, node.tensorIndices[i] ?? 0));
    nodes.push({ layer, className, config: layer.getConfig() as Record<string, unknown>, inputs });
  }
  if (model.inputs.length !== 1 || model.outputs.length !== 1) fail(`the model has ${model.inputs.length} inputs and ${model.outputs.length} outputs; ONNX export takes one of each`);
  const inputLayer = model.inputs[0]!.sourceLayer as tf.layers.Layer;
  const outputLayer = model.outputs[0]!.sourceLayer as tf.layers.Layer;
  if (!nodes.some((n) => n.layer === inputLayer)) nodes.unshift({ layer: inputLayer, className: 'InputLayer', config: {}, inputs: [] });
  return { nodes, inputLayers: [inputLayer.name], outputLayer: outputLayer.name };
}

/** A layer's weights by their short name (`kernel`, `gamma`…), copied out of the variables. */
function weightsOf(layer: tf.layers.Layer): Map<string, { shape: number[]; data: Float32Array }> {
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  const values = layer.getWeights();
  layer.weights.forEach((w, i) => {
    const v = values[i] as tf.Tensor;
    const short = w.originalName.slice(w.originalName.lastIndexOf('/') + 1);
    out.set(short, { shape: v.shape, data: new Float32Array(v.dataSync()) });
  });
  return out;
}

function need<T>(m: Map<string, T>, key: string, layer: string): T {
  const v = m.get(key);
  if (v === undefined) fail(`layer ${layer} has no '${key}' weight`);
  return v;
}

/** Scale and shift of an inference-mode batch normalisation: y = x * scale + shift. */
function bnAffine(layer: tf.layers.Layer, config: Record<string, unknown>): { scale: Float32Array; shift: Float32Array } {
  const w = weightsOf(layer);
  const mean = need(w, 'moving_mean', layer.name).data;
  const variance = need(w, 'moving_variance', layer.name).data;
  const gamma = w.get('gamma')?.data;
  const beta = w.get('beta')?.data;
  const eps = (config.epsilon as number | undefined) ?? 1e-3;
  const scale = new Float32Array(mean.length);
  const shift = new Float32Array(mean.length);
  for (let c = 0; c < mean.length; c++) {
    scale[c] = (gamma ? (gamma[c] as number) : 1) / Math.sqrt((variance[c] as number) + eps);
    shift[c] = (beta ? (beta[c] as number) : 0) - (mean[c] as number) * (scale[c] as number);
  }
  return { scale, shift };
}

function isBatchNorm(n: LayerNode): boolean {
  if (n.className === 'GreennasFusedBatchNormalization') return true;
  if (n.className !== 'BatchNormalization') return false;
  const axis = n.config.axis as number | number[] | undefined;
  const a = Array.isArray(axis) ? axis : [axis ?? -1];
  return a.length === 1 && (a[0] === -1 || a[0] === (n.layer.inputSpec?.[0]?.ndim ?? 4) - 1 || a[0] === 3);
}

function bnActivation(n: LayerNode): string {
  return n.className === 'GreennasFusedBatchNormalization' ? String(n.config.activation ?? 'linear') : 'linear';
}

/**
 * Converts a tfjs LayersModel into an ONNX model (IR 8, opset 13) that computes the same function in
 * inference mode. tfjs is channels-last; the ONNX graph takes the same input layout and transposes
 * once to NCHW, in which every 4-D tensor then lives (ONNX's Conv is NCHW). A batch normalisation
 * right after a convolution is folded into its weights; ReLU6 becomes Clip(0, 6); depthwise
 * convolutions become grouped ones. A layer outside ONNX_SUPPORTED_LAYERS is an error naming it.
 */
export function layersModelToOnnx(model: tf.LayersModel, options: OnnxExportOptions = {}): OnnxExport {
  const { nodes, inputLayers, outputLayer } = layerGraph(model);
  // The classes of the layers that read each layer's output, one entry per use.
  const consumers = new Map<string, string[]>();
  for (const n of nodes) for (const i of n.inputs) consumers.set(i, [...(consumers.get(i) ?? []), n.className]);
  /** Whether every consumer of a layer's output takes the pooled 4-D form (the inner links of an SE gate). */
  const staysPooled = (name: string) => (consumers.get(name) ?? []).every((c) => c === 'Dense' || c === 'Reshape') && name !== outputLayer && consumers.has(name);
  const byName = new Map(nodes.map((n) => [n.layer.name, n]));
  // Batch norms to fold: fed only by a linear convolution that feeds nothing else.
  const foldInto = new Map<string, LayerNode>();
  for (const n of nodes) {
    if (!isBatchNorm(n) || n.inputs.length !== 1) continue;
    const src = byName.get(n.inputs[0]!);
    if (!src || (src.className !== 'Conv2D' && src.className !== 'DepthwiseConv2D')) continue;
    if ((src.config.activation ?? 'linear') !== 'linear' || consumers.get(src.layer.name)?.length !== 1 || src.layer.name === outputLayer) continue;
    foldInto.set(src.layer.name, n);
  }
  const folded = new Set([...foldInto.values()].map((n) => n.layer.name));

  const g = new OnnxGraphBuilder();
  const values = new Map<string, Value>();
  const get = (name: string): Value => values.get(name) ?? fail(`internal: layer output ${name} used before it was converted`);
  const nchw = (v: Value, base: string): string => (v.shape.length === 4 ? v.name : fail(`${base}: expected a 4-D input, got shape [${v.shape.join(', ')}]`));
  /** The tensor in tfjs's channels-last layout (a transpose when it lives as NCHW). */
  const channelsLast = (v: Value, base: string): string => (v.shape.length === 4 ? g.op('Transpose', [v.name], `${base}/to_nhwc`, [attr.ints('perm', NCHW_TO_NHWC)]) : v.name);
  const scalar = (base: string, x: number) => g.constant(base, [], new Float32Array([x]));
  const activation = (x: string, kind: string, base: string, rank: number): string => {
    switch (kind) {
      case 'linear': return x;
      case 'relu': return g.op('Relu', [x], base);
      case 'relu6': return g.op('Clip', [x, scalar(`${base}/min`, 0), scalar(`${base}/max`, 6)], base);
      case 'sigmoid': return g.op('Sigmoid', [x], base);
      case 'tanh': return g.op('Tanh', [x], base);
      case 'softmax': return g.op('Softmax', [x], base, [attr.int('axis', rank === 4 ? 1 : -1)]);
      case 'elu': return g.op('Elu', [x], base);
      case 'selu': return g.op('Selu', [x], base);
      case 'softplus': return g.op('Softplus', [x], base);
      case 'softsign': return g.op('Softsign', [x], base);
      case 'hardSigmoid': return g.op('HardSigmoid', [x], base, [attr.float('alpha', 0.2), attr.float('beta', 0.5)]);
      case 'swish': return g.op('Mul', [x, g.op('Sigmoid', [x], `${base}/sigmoid`)], base);
      default: return fail(`activation '${kind}' has no ONNX mapping here`);
    }
  };
  const spatialPads = (inH: number, inW: number, k: [number, number], s: [number, number], d: [number, number], padding: string): number[] => {
    if (padding === 'valid') return [0, 0, 0, 0];
    if (padding !== 'same') fail(`padding '${padding}' has no ONNX mapping here`);
    const one = (size: number, kk: number, ss: number, dd: number) => {
      const out = Math.ceil(size / ss);
      const total = Math.max((out - 1) * ss + (kk - 1) * dd + 1 - size, 0);
      return [Math.floor(total / 2), total - Math.floor(total / 2)] as const;
    };
    const [t, b] = one(inH, k[0], s[0], d[0]);
    const [l, r] = one(inW, k[1], s[1], d[1]);
    return [t, l, b, r];
  };

  let inputName = '';
  let inputShape: number[] = [];
  for (const n of nodes) {
    const { layer, className, config } = n;
    const name = layer.name;
    const outShape = (layer.outputShape as Shape);
    const set = (onnxName: string, shape: Shape = outShape, pooled?: string) => values.set(name, { name: onnxName, shape, ...(pooled ? { pooled } : {}) });
    const input = () => get(n.inputs[0] ?? fail(`layer ${name} has no input`));
    if (folded.has(name)) {
      // Its scale and shift went into the convolution; only a fused activation is left.
      const v = input();
      set(activation(v.name, bnActivation(n), `${name}/act`, v.shape.length), v.shape);
      continue;
    }
    switch (className) {
      case 'InputLayer': {
        if (!inputLayers.includes(name)) fail(`input layer ${name} is not the model's input`);
        const shape = (((config.batchInputShape as Shape | undefined) ?? outShape) as Shape);
        inputShape = dimsOf(shape, `input ${name}`);
        if ((config.dtype ?? 'float32') !== 'float32') fail(`input ${name} is ${String(config.dtype)}; ONNX export takes float32 inputs`);
        inputName = g.reserve(name);
        const v = inputShape.length === 3 ? g.op('Transpose', [inputName], `${name}/to_nchw`, [attr.ints('perm', NHWC_TO_NCHW)]) : inputName;
        set(v, shape);
        break;
      }
      case 'Conv2D':
      case 'DepthwiseConv2D': {
        const x = input();
        if ((config.dataFormat ?? 'channelsLast') !== 'channelsLast') fail(`layer ${name}: only channels-last convolutions are exported`);
        const [inH, inW, inC] = dimsOf(x.shape, name) as [number, number, number];
        const outC = dimsOf(outShape, name)[2] as number;
        const k = pair(config.kernelSize, `${name} kernelSize`);
        const s = pair(config.strides ?? 1, `${name} strides`);
        const d = pair(config.dilationRate ?? 1, `${name} dilationRate`);
        const w = weightsOf(layer);
        const depthwise = className === 'DepthwiseConv2D';
        const kernel = need(w, depthwise ? 'depthwise_kernel' : 'kernel', name).data;
        const mult = depthwise ? (config.depthMultiplier as number | undefined) ?? 1 : 1;
        const cin = inC;
        const cout = outC;
        const perOut = depthwise ? 1 : cin;
        // tfjs kernel [kh, kw, in, out] (depthwise: [kh, kw, in, mult]) -> ONNX [out, in/group, kh, kw].
        const W = new Float32Array(cout * perOut * k[0] * k[1]);
        for (let i = 0; i < k[0]; i++) for (let j = 0; j < k[1]; j++) for (let c = 0; c < cin; c++) {
          for (let m = 0; m < (depthwise ? mult : cout); m++) {
            const o = depthwise ? c * mult + m : m;
            const ci = depthwise ? 0 : c;
            W[((o * perOut + ci) * k[0] + i) * k[1] + j] = kernel[((i * k[1] + j) * cin + c) * (depthwise ? mult : cout) + m] as number;
          }
        }
        const bias = new Float32Array(cout);
        const b = w.get('bias')?.data;
        if (b) bias.set(b);
        const bn = foldInto.get(name);
        if (bn) {
          const { scale, shift } = bnAffine(bn.layer, bn.config);
          const per = W.length / cout;
          for (let o = 0; o < cout; o++) {
            for (let e = 0; e < per; e++) W[o * per + e] = (W[o * per + e] as number) * (scale[o] as number);
            bias[o] = (bias[o] as number) * (scale[o] as number) + (shift[o] as number);
          }
        }
        const hasBias = Boolean(b) || Boolean(bn);
        const attrs: OnnxAttribute[] = [
          attr.ints('kernel_shape', k), attr.ints('strides', s), attr.ints('dilations', d),
          attr.ints('pads', spatialPads(inH, inW, k, s, d, String(config.padding ?? 'valid'))), attr.int('group', depthwise ? cin : 1),
        ];
        const inputs = [nchw(x, name), g.constant(`${name}/W`, [cout, perOut, k[0], k[1]], W)];
        if (hasBias) inputs.push(g.constant(`${name}/B`, [cout], bias));
        const y = g.op('Conv', inputs, bn ? `${name}+${bn.layer.name}` : name, attrs);
        set(activation(y, String(config.activation ?? 'linear'), `${name}/act`, 4));
        break;
      }
      case 'Dense': {
        const x = input();
        const w = weightsOf(layer);
        const kernel = need(w, 'kernel', name);
        const [inF, outF] = kernel.shape as [number, number];
        const b = w.get('bias')?.data;
        let y: string;
        if (x.shape.length === 2 && x.pooled && staysPooled(name)) {
          // A 1×1 convolution on the pooled [N, C, 1, 1] form: same weights as Gemm's transposed B.
          const w4 = new Float32Array(inF * outF);
          for (let i = 0; i < inF; i++) for (let o = 0; o < outF; o++) w4[o * inF + i] = kernel.data[i * outF + o] as number;
          const inputs = [x.pooled, g.constant(`${name}/W`, [outF, inF, 1, 1], w4)];
          if (b) inputs.push(g.constant(`${name}/B`, [outF], b));
          const y4 = activation(g.op('Conv', inputs, name, [attr.ints('kernel_shape', [1, 1])]), String(config.activation ?? 'linear'), `${name}/act`, 4);
          set(g.op('Flatten', [y4], `${name}/flat`, [attr.int('axis', 1)]), outShape, y4);
          break;
        }
        if (x.shape.length === 2) {
          // Gemm with B as [out, in] (transB), so per-output-channel quantization is along axis 0 as for Conv.
          const bt = new Float32Array(inF * outF);
          for (let i = 0; i < inF; i++) for (let o = 0; o < outF; o++) bt[o * inF + i] = kernel.data[i * outF + o] as number;
          const inputs = [x.name, g.constant(`${name}/B`, [outF, inF], bt)];
          if (b) inputs.push(g.constant(`${name}/C`, [outF], b));
          y = g.op('Gemm', inputs, name, [attr.int('transB', 1)]);
        } else {
          const xm = channelsLast(x, name);
          y = g.op('MatMul', [xm, g.constant(`${name}/W`, [inF, outF], kernel.data)], `${name}/matmul`);
          if (b) y = g.op('Add', [y, g.constant(`${name}/bias`, [outF], b)], name);
          if (outShape.length === 4) y = g.op('Transpose', [y], `${name}/to_nchw`, [attr.ints('perm', NHWC_TO_NCHW)]);
        }
        set(activation(y, String(config.activation ?? 'linear'), `${name}/act`, outShape.length));
        break;
      }
      case 'BatchNormalization':
      case 'GreennasFusedBatchNormalization': {
        if (!isBatchNorm(n)) fail(`layer ${name}: batch normalisation over axis ${JSON.stringify(config.axis)} is not exported (only the channel axis)`);
        const x = input();
        const { scale, shift } = bnAffine(layer, config);
        const c = scale.length;
        // y = x * scale + shift along the channel axis (axis 1 in NCHW, last otherwise).
        const bshape = x.shape.length === 4 ? [c, 1, 1] : [c];
        const y = g.op('Add', [g.op('Mul', [x.name, g.constant(`${name}/scale`, bshape, scale)], `${name}/mul`), g.constant(`${name}/shift`, bshape, shift)], name);
        set(activation(y, bnActivation(n), `${name}/act`, x.shape.length), x.shape);
        break;
      }
      case 'ReLU': {
        const x = input();
        const maxValue = config.maxValue as number | null | undefined;
        if (((config.threshold as number | undefined) ?? 0) !== 0 || ((config.negativeSlope as number | undefined) ?? 0) !== 0) fail(`layer ${name}: ReLU with a threshold or negative slope is not exported`);
        set(maxValue === null || maxValue === undefined ? g.op('Relu', [x.name], name)
          : g.op('Clip', [x.name, scalar(`${name}/min`, 0), scalar(`${name}/max`, maxValue)], name), x.shape);
        break;
      }
      case 'GreennasRelu6': {
        const x = input();
        set(activation(x.name, 'relu6', name, x.shape.length), x.shape);
        break;
      }
      case 'Activation': {
        const x = input();
        set(activation(x.name, String(config.activation), name, x.shape.length), x.shape);
        break;
      }
      case 'Add':
      case 'Multiply': {
        const xs = n.inputs.map(get);
        const ranks = new Set(xs.map((v) => v.shape.length));
        if (ranks.size !== 1) fail(`layer ${name}: inputs of different ranks are not exported`);
        let y = xs[0]!.name;
        for (let i = 1; i < xs.length; i++) y = g.op(className === 'Add' ? 'Add' : 'Mul', [y, xs[i]!.name], i === xs.length - 1 ? name : `${name}/${i}`);
        set(y);
        break;
      }
      case 'GlobalAveragePooling2D':
      case 'GlobalMaxPooling2D': {
        const x = input();
        if ((config.dataFormat ?? 'channelsLast') !== 'channelsLast') fail(`layer ${name}: only channels-last pooling is exported`);
        const pooled = g.op(className === 'GlobalAveragePooling2D' ? 'GlobalAveragePool' : 'GlobalMaxPool', [nchw(x, name)], `${name}/pool`);
        set(g.op('Flatten', [pooled], name, [attr.int('axis', 1)]), outShape, pooled);
        break;
      }
      case 'MaxPooling2D':
      case 'AveragePooling2D': {
        const x = input();
        const [inH, inW] = dimsOf(x.shape, name) as [number, number];
        const k = pair(config.poolSize, `${name} poolSize`);
        const s = pair(config.strides ?? config.poolSize, `${name} strides`);
        const pads = spatialPads(inH, inW, k, s, [1, 1], String(config.padding ?? 'valid'));
        set(g.op(className === 'MaxPooling2D' ? 'MaxPool' : 'AveragePool', [nchw(x, name)], name, [attr.ints('kernel_shape', k), attr.ints('strides', s), attr.ints('pads', pads)]));
        break;
      }
      case 'Reshape':
      case 'Flatten': {
        const x = input();
        const target = dimsOf(outShape, name);
        let y: string;
        const outRank4 = target.length === 3;
        // Same element order in NCHW as in NHWC when channels == 1 or height == width == 1: reshape straight into NCHW.
        const direct = outRank4 && x.shape.length !== 4 && (target[2] === 1 || (target[0] === 1 && target[1] === 1));
        if (direct && x.pooled && target[0] === 1 && target[1] === 1) {
          y = x.pooled; // already [N, C, 1, 1]
        } else if (direct) {
          y = g.op('Reshape', [x.name, g.constant(`${name}/shape`, [4], new BigInt64Array([0n, BigInt(target[2]!), BigInt(target[0]!), BigInt(target[1]!)]))], name);
        } else {
          const flat = channelsLast(x, name);
          y = g.op('Reshape', [flat, g.constant(`${name}/shape`, [target.length + 1], new BigInt64Array([0n, ...target.map((t) => BigInt(t))]))], outRank4 ? `${name}/nhwc` : name);
          if (outRank4) y = g.op('Transpose', [y], name, [attr.ints('perm', NHWC_TO_NCHW)]);
        }
        set(y);
        break;
      }
      case 'Dropout':
      case 'SpatialDropout1D':
      case 'GaussianNoise':
      case 'GaussianDropout':
      case 'AlphaDropout': {
        set(input().name, input().shape);
        break;
      }
      default:
        fail(`layer ${name} (${className}) has no ONNX mapping; exported layer classes: ${ONNX_SUPPORTED_LAYERS.join(', ')}`);
    }
  }
  const out = get(outputLayer);
  const outputName = out.shape.length === 4 ? channelsLast(out, `${outputLayer}/output`) : out.name;
  const outDims = dimsOf(out.shape, outputLayer);
  const { nodes: live, initializers } = liveGraph(g, outputName);
  const onnx: OnnxModel = {
    ir_version: ONNX_IR_VERSION,
    opset_import: [{ domain: '', version: ONNX_OPSET }],
    producer_name: 'greennas',
    producer_version: VERSION,
    graph: {
      name: options.graphName ?? model.name,
      node: live,
      initializer: initializers,
      input: [floatValueInfo(inputName, ['batch', ...inputShape])],
      output: [floatValueInfo(outputName, ['batch', ...outDims])],
    },
    metadata_props: Object.entries(options.metadata ?? {}).map(([key, value]) => ({ key, value })),
  };
  return { bytes: encodeOnnx(onnx), model: onnx, inputName, outputName, inputShape, foldedBatchNorms: folded.size };
}

/** The nodes and weights the output depends on (a 2-D form nobody read after an SE gate stayed 4-D is dropped). */
function liveGraph(g: OnnxGraphBuilder, output: string): { nodes: OnnxGraphBuilder['nodes']; initializers: OnnxGraphBuilder['initializers'] } {
  const needed = new Set([output]);
  const live: OnnxGraphBuilder['nodes'] = [];
  for (let i = g.nodes.length - 1; i >= 0; i--) {
    const node = g.nodes[i]!;
    if (!node.output.some((o) => needed.has(o))) continue;
    live.push(node);
    for (const inp of node.input) needed.add(inp);
  }
  return { nodes: live.reverse(), initializers: g.initializers.filter((t) => needed.has(t.name)) };
}
