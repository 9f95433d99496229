import { GreennasError } from '../core/index.js';
import {
  attr,
  DataType,
  decodeOnnx,
  encodeOnnx,
  floatData,
  tensor,
  type OnnxModel,
  type OnnxNode,
  type OnnxTensor,
} from './onnx-model.js';
import { openOnnxSession, runOnnxBatched } from './onnx-runtime.js';

/** Samples the activation ranges are calibrated on (held out from the data accuracy is measured on). */
export interface CalibrationData {
  /** Samples, row-major, in the model's input layout, already scaled as the model expects. */
  input: Float32Array;
  /** Number of samples. */
  count: number;
}

/** What quantizeOnnxInt8 produced, and how. */
export interface Int8Export {
  /** The QDQ model as ONNX bytes. */
  bytes: Uint8Array;
  /** The same model as protobuf objects. */
  model: OnnxModel;
  /** How it was quantized, for the manifest. */
  detail: {
    /** Format of the quantized graph. */
    format: 'QDQ';
    /** Weight quantization. */
    weights: 'int8, symmetric, per output channel';
    /** Activation quantization. */
    activations: 'uint8, asymmetric, per tensor, min/max calibrated';
    /** Samples the activation ranges came from. */
    calibrationSamples: number;
    /** Operators whose weights are int8 (Conv, Gemm, MatMul). */
    quantizedOps: number;
    /** Activation tensors given a QuantizeLinear/DequantizeLinear pair. */
    quantizedTensors: number;
  };
}

/** Operators whose second input is a weight matrix quantized per output channel. */
const WEIGHTED = new Set(['Conv', 'Gemm', 'MatMul']);
/** Operators a following QuantizeLinear absorbs (onnxruntime drops them when the quantized range already clips). */
const ABSORBED = new Set(['Relu', 'Clip']);

function uint8Params(min: number, max: number): { scale: number; zeroPoint: number } {
  const lo = Math.min(0, min);
  const hi = Math.max(0, max);
  const scale = hi > lo ? (hi - lo) / 255 : 1;
  return { scale, zeroPoint: Math.max(0, Math.min(255, Math.round(-lo / scale))) };
}

/**
 * Quantizes a float ONNX model (as layersModelToOnnx writes it) to INT8 in QDQ form, the form
 * onnxruntime fuses into integer kernels (QLinearConv, QGemm, QLinearMatMul, QLinearAdd…):
 * weights int8 symmetric per output channel; biases int32 at input scale × weight scale; activations
 * uint8 with per-tensor ranges from running the float model on `calibration` (min/max of every
 * tensor). A Relu or Clip right before a quantized tensor gets no pair of its own, so onnxruntime can
 * fold it into the quantized range. The graph output stays float.
 */
export async function quantizeOnnxInt8(float: Uint8Array, calibration: CalibrationData): Promise<Int8Export> {
  if (calibration.count < 1) throw new GreennasError('INT8 calibration needs at least one sample', 'E_EXPORT');
  const model = decodeOnnx(float);
  const graph = model.graph;
  const inputName = graph.input[0]?.name ?? '';
  const sampleShape = (graph.input[0]?.type.tensor_type.shape?.dim ?? []).slice(1).map((d) => ('dim_value' in d ? Number(d.dim_value) : Number.NaN));
  if (sampleShape.some((d) => !Number.isFinite(d))) throw new GreennasError('INT8 calibration needs an input with fixed dimensions besides the batch', 'E_EXPORT');
  const outputs = new Set(graph.output.map((o) => o.name));
  const initializers = new Map(graph.initializer.map((t) => [t.name, t]));
  const consumers = new Map<string, OnnxNode[]>();
  for (const n of graph.node) for (const i of n.input) consumers.set(i, [...(consumers.get(i) ?? []), n]);

  // --- Calibration: the float model with every activation tensor as an extra output.
  const activations = graph.node.flatMap((n) => n.output).filter((t) => !outputs.has(t));
  const calib: OnnxModel = { ...model, graph: { ...graph, output: [...graph.output, ...activations.map((name) => ({ name, type: { tensor_type: { elem_type: DataType.FLOAT } } }))] } };
  const ranges = new Map<string, { min: number; max: number }>();
  const session = await openOnnxSession(encodeOnnx(calib));
  try {
    const got = await runOnnxBatched(session, calibration.input, sampleShape, calibration.count, { outputNames: activations, batchSize: 128 });
    for (const [name, parts] of got) {
      let min = Number.POSITIVE_INFINITY;
      let max = Number.NEGATIVE_INFINITY;
      for (const p of parts) for (let i = 0; i < p.length; i++) { const v = p[i] as number; if (v < min) min = v; if (v > max) max = v; }
      ranges.set(name, { min, max });
    }
  } finally {
    await session.release();
  }
  {
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    const n = calibration.count * sampleShape.reduce((a, b) => a * b, 1);
    for (let i = 0; i < n; i++) { const v = calibration.input[i] as number; if (v < min) min = v; if (v > max) max = v; }
    ranges.set(inputName, { min, max });
  }

  // --- Which activation tensors get a Q/DQ pair.
  const quantized = new Map<string, { scale: number; zeroPoint: number }>();
  for (const name of [inputName, ...activations]) {
    const users = consumers.get(name) ?? [];
    if (users.length === 0 || outputs.has(name)) continue;
    if (users.every((u) => ABSORBED.has(u.op_type))) continue;
    const r = ranges.get(name);
    if (!r || !Number.isFinite(r.min) || !Number.isFinite(r.max)) continue;
    quantized.set(name, uint8Params(r.min, r.max));
  }

  const newInit: OnnxTensor[] = [];
  const weightNodes: OnnxNode[] = [];
  const replaced = new Set<string>();
  const dq = (t: string) => `${t}/dq`;
  const qdqNodes = (t: string): OnnxNode[] => {
    const p = quantized.get(t)!;
    newInit.push(tensor(`${t}/scale`, [], new Float32Array([p.scale])), tensor(`${t}/zero_point`, [], new Uint8Array([p.zeroPoint])));
    return [
      { name: `${t}/QuantizeLinear`, op_type: 'QuantizeLinear', input: [t, `${t}/scale`, `${t}/zero_point`], output: [`${t}/q`] },
      { name: `${t}/DequantizeLinear`, op_type: 'DequantizeLinear', input: [`${t}/q`, `${t}/scale`, `${t}/zero_point`], output: [dq(t)] },
    ];
  };

  // --- Weights: int8 per output channel, biases int32, each behind a DequantizeLinear.
  let quantizedOps = 0;
  for (const n of graph.node) {
    if (!WEIGHTED.has(n.op_type)) continue;
    const x = n.input[0] as string;
    const w = initializers.get(n.input[1] ?? '');
    const xq = quantized.get(x);
    if (!w || !xq || w.data_type !== DataType.FLOAT) continue;
    const transB = (n.attribute ?? []).find((a) => a.name === 'transB')?.i ?? 0;
    // Output channels: Conv W [O, …]; Gemm B [O, I] with transB, else [I, O]; MatMul B [I, O].
    const axis = n.op_type === 'Conv' || (n.op_type === 'Gemm' && Number(transB) === 1) ? 0 : 1;
    if (w.dims.length !== (n.op_type === 'Conv' ? 4 : 2)) continue;
    const values = floatData(w);
    const channels = w.dims[axis] as number;
    const inner = axis === 0 ? values.length / channels : 1;
    const stride = axis === 0 ? 1 : channels;
    const maxAbs = new Float32Array(channels);
    for (let i = 0; i < values.length; i++) {
      const c = axis === 0 ? Math.floor(i / inner) : i % stride;
      maxAbs[c] = Math.max(maxAbs[c] as number, Math.abs(values[i] as number));
    }
    const scales = Float32Array.from(maxAbs, (m) => (m > 0 ? m / 127 : 1));
    const q = new Int8Array(values.length);
    for (let i = 0; i < values.length; i++) {
      const c = axis === 0 ? Math.floor(i / inner) : i % stride;
      q[i] = Math.max(-127, Math.min(127, Math.round((values[i] as number) / (scales[c] as number))));
    }
    const wName = `${w.name}/int8`;
    newInit.push(tensor(wName, w.dims, q), tensor(`${wName}/scale`, [channels], scales), tensor(`${wName}/zero_point`, [channels], new Int8Array(channels)));
    weightNodes.push({ name: `${wName}/DequantizeLinear`, op_type: 'DequantizeLinear', input: [wName, `${wName}/scale`, `${wName}/zero_point`], output: [dq(wName)], attribute: [attr.int('axis', axis)] });
    n.input[1] = dq(wName);
    replaced.add(w.name);
    const b = n.op_type === 'MatMul' ? undefined : initializers.get(n.input[2] ?? '');
    if (b && b.dims.length === 1 && b.dims[0] === channels && b.data_type === DataType.FLOAT) {
      const bias = floatData(b);
      const bScale = Float32Array.from(scales, (s) => s * xq.scale);
      const bq = Int32Array.from(bias, (v, c) => Math.round(v / (bScale[c] as number)));
      const bName = `${b.name}/int32`;
      newInit.push(tensor(bName, b.dims, bq), tensor(`${bName}/scale`, [channels], bScale), tensor(`${bName}/zero_point`, [channels], new Int32Array(channels)));
      weightNodes.push({ name: `${bName}/DequantizeLinear`, op_type: 'DequantizeLinear', input: [bName, `${bName}/scale`, `${bName}/zero_point`], output: [dq(bName)], attribute: [attr.int('axis', 0)] });
      n.input[2] = dq(bName);
      replaced.add(b.name);
    }
    quantizedOps++;
  }

  // --- Activations: a Q/DQ pair right after each producer; consumers read the dequantized tensor.
  const nodes: OnnxNode[] = [...weightNodes];
  if (quantized.has(inputName)) nodes.push(...qdqNodes(inputName));
  for (const n of graph.node) {
    n.input = n.input.map((i) => (quantized.has(i) ? dq(i) : i));
    nodes.push(n);
    for (const o of n.output) if (quantized.has(o)) nodes.push(...qdqNodes(o));
  }
  const stillUsed = new Set(nodes.flatMap((n) => n.input));
  const out: OnnxModel = {
    ...model,
    graph: { ...graph, node: nodes, initializer: [...graph.initializer.filter((t) => !replaced.has(t.name) || stillUsed.has(t.name)), ...newInit] },
    metadata_props: [...(model.metadata_props ?? []), { key: 'greennas.quantization', value: 'int8 QDQ' }],
  };
  return {
    bytes: encodeOnnx(out),
    model: out,
    detail: {
      format: 'QDQ', weights: 'int8, symmetric, per output channel', activations: 'uint8, asymmetric, per tensor, min/max calibrated',
      calibrationSamples: calibration.count, quantizedOps, quantizedTensors: quantized.size,
    },
  };
}

/** Operator types of an ONNX model's graph with their counts (e.g. of the graph onnxruntime optimised). */
export function onnxOpCounts(onnx: Uint8Array): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const n of decodeOnnx(onnx).graph.node) counts[n.op_type] = (counts[n.op_type] ?? 0) + 1;
  return counts;
}
