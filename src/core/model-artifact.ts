/**
 * A trained model as plain data (tfjs's layers format: the topology JSON, the weight manifest and
 * the weights' bytes), so it crosses worker threads, goes into the run store and comes back out
 * without tfjs on the other side.
 */
export interface ModelArtifact {
  /** Serialisation format; tfjs layers models only, for now. */
  format: 'tfjs-layers';
  /** The model's topology (tfjs `modelTopology`: class_name, config, keras_version, backend). */
  topology: object;
  /** tfjs weight specs (name, shape, dtype, optional quantization) in the order of `weightData`. */
  weightSpecs: object[];
  /** All weights, concatenated in `weightSpecs` order. */
  weightData: Uint8Array;
}
