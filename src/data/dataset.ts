/**
 * The shape every dataset loader returns: plain objects and typed arrays only, so a dataset can be
 * posted to a worker thread (or shared through SharedArrayBuffer) and turned into tensors there.
 */

/**
 * What a model builder needs to know about a dataset. Structurally identical to `Task` in
 * `src/space/search-space.ts` (data may import only core, so the type is restated here), so a
 * `DatasetInfo` can be passed wherever a `Task` is expected.
 */
export interface DatasetInfo {
  /** Dataset id, e.g. `fashion-mnist`. */
  dataset: string;
  /** Input shape of one sample, without the batch dimension (`[28, 28, 1]`, `[seqLen]`). */
  inputShape: number[];
  /** Number of output classes. */
  numClasses: number;
  /** `image` for HWC float input, `text` for integer token ids. */
  kind: 'image' | 'text';
  /** Vocabulary size including PAD (id 0) and UNK (id 1), for text. */
  vocabSize?: number;
}

/** Element storage of a split: raw pixel bytes (images, scaled to [0, 1] per batch) or token ids (text). */
export type SampleArray = Uint8Array | Int32Array;

/** One split of a dataset: `count` samples of `sampleSize` elements each, stored row after row. */
export interface DataSplit {
  /** Samples, row-major: sample i occupies `x[i * sampleSize, (i + 1) * sampleSize)`. */
  x: SampleArray;
  /** Class label of each sample, in `[0, numClasses)`. */
  y: Int32Array;
  /** Number of samples. */
  count: number;
  /** Elements per sample (784 for 28×28×1 images, seqLen for text). */
  sampleSize: number;
  /** Position of each sample in the source it was read from (IDX file order, corpus order), for tracing. */
  sourceIndex: Int32Array;
}

/** Where the data came from and what was checked, for logs and reports. */
export interface DatasetProvenance {
  /** Human-readable origin, e.g. `/usr/share/datasets/fashion-mnist (system)`. */
  source: string;
  /** Whether the files were checked against the official checksums. */
  checksumsVerified: boolean;
  /** Seed used for the validation/test split and subsets. */
  seed: number | string;
  /** Free-form notes (duplicates removed, vocabulary size requested vs found…). */
  notes: string[];
}

/** A token vocabulary: id 0 is PAD, id 1 is UNK, then tokens by falling training frequency. */
export interface Vocabulary {
  /** Token of each id. */
  tokens: string[];
  /** Id of each token. */
  ids: Map<string, number>;
}

/** A loaded dataset with its train / validation / test splits. */
export interface Dataset {
  /** Registry id, e.g. `fashion-mnist`. */
  id: string;
  /** Input shape, classes and kind, ready to hand to a search space as its `Task`. */
  task: DatasetInfo;
  /** Name of each class, indexed by label. */
  classNames: string[];
  /** Training split (after any `trainSubset`). */
  train: DataSplit;
  /** Validation split, taken from the training data with a seeded stratified draw. */
  validation: DataSplit;
  /** Test split (the official one where the dataset has one). */
  test: DataSplit;
  /** The vocabulary, for text datasets. */
  vocabulary?: Vocabulary;
  /** Origin and checks. */
  provenance: DatasetProvenance;
}

/** Options every loader understands. */
export interface CommonDatasetOptions {
  /** Seed for the validation/test split, subsets and anything else random (default 0). */
  seed?: number | string;
  /**
   * Validation split size, taken from the training data: a fraction in (0, 1) or a sample count
   * ≥ 1 (like scikit-learn's `test_size`). Default 0.1.
   */
  validationSize?: number;
  /** Keep only this many training samples (a seeded, stratified subset), for fast proxy training. */
  trainSubset?: number;
  /** Keep only this many validation samples (a seeded, stratified subset). */
  validationSubset?: number;
  /** Allocate the split arrays on SharedArrayBuffer so worker threads can read them without copies. */
  sharedMemory?: boolean;
}

/** Counts of each label in a split, indexed by class. */
export function classCounts(split: Pick<DataSplit, 'y'>, numClasses: number): number[] {
  const counts = new Array<number>(numClasses).fill(0);
  for (const label of split.y) counts[label] = (counts[label] ?? 0) + 1;
  return counts;
}
