import protobuf from 'protobufjs';
import { GreennasError } from '../core/index.js';
import { ONNX_PROTO_SCHEMA } from './onnx-proto-schema.js';

// Plain-object views of the ONNX messages greennas writes (protobufjs objects with the schema's own
// snake_case field names). Only the fields used here are typed; protobufjs checks the rest.

/** ONNX IR version written (ONNX 1.10–1.12; onnxruntime reads it). */
export const ONNX_IR_VERSION = 8;
/** Default-domain opset written: 13 has per-axis QuantizeLinear/DequantizeLinear and Clip with tensor bounds. */
export const ONNX_OPSET = 13;
/** Opset of Microsoft's contrib domain, which appears only in graphs onnxruntime optimised. */
export const MS_DOMAIN = 'com.microsoft';

/** TensorProto.DataType values used here. */
export const DataType = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7 } as const;
/** AttributeProto.AttributeType values used here. */
export const AttrType = { FLOAT: 1, INT: 2, STRING: 3, FLOATS: 6, INTS: 7 } as const;

/** An ONNX TensorProto with its data in `raw_data` (little-endian). */
export interface OnnxTensor {
  /** Tensor name. */
  name: string;
  /** Shape. */
  dims: number[];
  /** DataType value. */
  data_type: number;
  /** Little-endian bytes. */
  raw_data: Uint8Array;
}

/** An ONNX AttributeProto. */
export interface OnnxAttribute {
  /** Attribute name. */
  name: string;
  /** AttrType value. */
  type: number;
  /** FLOAT value. */
  f?: number;
  /** INT value. */
  i?: number;
  /** STRING value (bytes). */
  s?: Uint8Array;
  /** INTS value. */
  ints?: number[];
  /** FLOATS value. */
  floats?: number[];
}

/** An ONNX NodeProto. */
export interface OnnxNode {
  /** Input tensor names. */
  input: string[];
  /** Output tensor names. */
  output: string[];
  /** Node name, unique in the graph. */
  name: string;
  /** Operator. */
  op_type: string;
  /** Operator domain ('' is ONNX's own). */
  domain?: string;
  /** Attributes. */
  attribute?: OnnxAttribute[];
}

/** One dimension of a declared shape: fixed, or named (the batch). */
export type OnnxDim = { dim_value: number } | { dim_param: string };

/** An ONNX ValueInfoProto of a tensor. */
export interface OnnxValueInfo {
  /** Tensor name. */
  name: string;
  /** Its type: element type and (optionally) shape. */
  type: { tensor_type: { elem_type: number; shape?: { dim: OnnxDim[] } } };
}

/** An ONNX GraphProto. */
export interface OnnxGraph {
  /** Graph name. */
  name: string;
  /** Nodes in topological order. */
  node: OnnxNode[];
  /** Weights. */
  initializer: OnnxTensor[];
  /** Graph inputs. */
  input: OnnxValueInfo[];
  /** Graph outputs. */
  output: OnnxValueInfo[];
  /** Optional shapes of intermediate tensors. */
  value_info?: OnnxValueInfo[];
}

/** An ONNX ModelProto. */
export interface OnnxModel {
  /** IR version. */
  ir_version: number;
  /** Operator sets used. */
  opset_import: { domain: string; version: number }[];
  /** Who wrote it. */
  producer_name: string;
  /** Its version. */
  producer_version: string;
  /** Free text. */
  doc_string?: string;
  /** The graph. */
  graph: OnnxGraph;
  /** Key/value metadata (run id, trial id…). */
  metadata_props?: { key: string; value: string }[];
}

let modelType: protobuf.Type | undefined;

function modelProto(): protobuf.Type {
  modelType ??= protobuf.parse(ONNX_PROTO_SCHEMA, { keepCase: true }).root.lookupType('onnx.ModelProto');
  return modelType;
}

/** Serialises a model to ONNX's protobuf bytes (after protobufjs checks every field against the schema). */
export function encodeOnnx(model: OnnxModel): Uint8Array {
  const type = modelProto();
  const problem = type.verify(model);
  if (problem) throw new GreennasError(`invalid ONNX model: ${problem}`, 'E_ONNX');
  return type.encode(type.fromObject(model)).finish();
}

/** Parses ONNX protobuf bytes (int64 fields as numbers, bytes as Uint8Array). */
export function decodeOnnx(bytes: Uint8Array): OnnxModel {
  const type = modelProto();
  const msg = type.decode(bytes);
  const obj = type.toObject(msg, { longs: Number, enums: Number, defaults: false, arrays: true }) as OnnxModel;
  for (const t of obj.graph.initializer ?? []) t.raw_data = t.raw_data ? new Uint8Array(t.raw_data) : new Uint8Array(0);
  obj.graph.value_info ??= [];
  return obj;
}

/** A tensor from typed-array data (copied into its own little-endian bytes). */
export function tensor(name: string, dims: readonly number[], data: Float32Array | Int32Array | Int8Array | Uint8Array | BigInt64Array): OnnxTensor {
  const dataType = data instanceof Float32Array ? DataType.FLOAT : data instanceof Int32Array ? DataType.INT32 : data instanceof Int8Array ? DataType.INT8
    : data instanceof BigInt64Array ? DataType.INT64 : DataType.UINT8;
  const count = dims.reduce((a, b) => a * b, 1);
  if (count !== data.length) throw new GreennasError(`tensor ${name}: ${data.length} values for shape [${dims.join(', ')}]`, 'E_ONNX');
  return { name, dims: [...dims], data_type: dataType, raw_data: new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)) };
}

/** A tensor's values as float32 (FLOAT tensors only). */
export function floatData(t: OnnxTensor): Float32Array {
  if (t.data_type !== DataType.FLOAT) throw new GreennasError(`tensor ${t.name} is not float32 (data type ${t.data_type})`, 'E_ONNX');
  const bytes = t.raw_data;
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

/** Attribute constructors. */
export const attr = {
  /** An INT attribute. */
  int: (name: string, i: number): OnnxAttribute => ({ name, type: AttrType.INT, i }),
  /** A FLOAT attribute. */
  float: (name: string, f: number): OnnxAttribute => ({ name, type: AttrType.FLOAT, f }),
  /** An INTS attribute. */
  ints: (name: string, ints: readonly number[]): OnnxAttribute => ({ name, type: AttrType.INTS, ints: [...ints] }),
  /** A STRING attribute. */
  string: (name: string, s: string): OnnxAttribute => ({ name, type: AttrType.STRING, s: new TextEncoder().encode(s) }),
};

/** A float32 tensor's declared type, with a named batch dimension first. */
export function floatValueInfo(name: string, dims: readonly (number | string)[]): OnnxValueInfo {
  return { name, type: { tensor_type: { elem_type: DataType.FLOAT, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) } } } };
}

/** Collects nodes and initializers with unique names. */
export class OnnxGraphBuilder {
  /** Nodes in the order added (which must be topological). */
  readonly nodes: OnnxNode[] = [];
  /** Initializers. */
  readonly initializers: OnnxTensor[] = [];
  private readonly names = new Set<string>();

  /** A name not used yet in this graph, derived from `base`. */
  fresh(base: string): string {
    let name = base;
    for (let i = 1; this.names.has(name); i++) name = `${base}_${i}`;
    this.names.add(name);
    return name;
  }

  /** Reserves a name exactly (graph inputs); it must be free. */
  reserve(name: string): string {
    if (this.names.has(name)) throw new GreennasError(`ONNX name ${name} is used twice`, 'E_ONNX');
    this.names.add(name);
    return name;
  }

  /** Adds a weight and returns its name. */
  constant(base: string, dims: readonly number[], data: Float32Array | Int32Array | Int8Array | Uint8Array | BigInt64Array): string {
    const name = this.fresh(base);
    this.initializers.push(tensor(name, dims, data));
    return name;
  }

  /** Adds a node with one output and returns the output's name. */
  op(opType: string, inputs: string[], outputBase: string, attributes: OnnxAttribute[] = []): string {
    const out = this.fresh(outputBase);
    this.nodes.push({ name: this.fresh(`${outputBase}/${opType}`), op_type: opType, input: inputs, output: [out], ...(attributes.length ? { attribute: attributes } : {}) });
    return out;
  }
}
