/** Dataset loaders (Fashion-MNIST IDX files, SpamAssassin mail), tokenizer, vocabulary, splits and batches. */
export type { Dataset, DatasetInfo, DataSplit, DatasetProvenance, SampleArray, Vocabulary, CommonDatasetOptions } from './dataset.js';
export { classCounts } from './dataset.js';
export { loadDataset, getDataset, datasetIds, DATASETS, type DatasetDefinition, type LoadDatasetOptions } from './registry.js';
export { iterateBatches, batchCount, batchOrder, splitAsBatch, type Batch, type BatchOptions } from './batches.js';
export {
  loadFashionMnist,
  locateFashionMnist,
  resolveFashionMnist,
  downloadFashionMnist,
  fashionMnistAvailable,
  defaultCacheDir,
  FASHION_MNIST_ID,
  FASHION_MNIST_CLASSES,
  FASHION_MNIST_FILES,
  FASHION_MNIST_BASE_URL,
  DEBIAN_FASHION_MNIST_DIR,
  type FashionMnistOptions,
  type FashionMnistFile,
  type FashionMnistLocation,
  type FetchLike,
} from './fashion-mnist.js';
export {
  loadSpamAssassin,
  readSpamAssassinCorpus,
  SPAM_ASSASSIN_ID,
  SPAM_ASSASSIN_CLASSES,
  SPAM_ASSASSIN_PACKAGE,
  type SpamAssassinOptions,
  type RawEmail,
} from './spam-assassin.js';
export { tokenizeEmail, tokenizeText, emailText, stripHtml, splitHeaders, decodeEncodedWords } from './email-tokenizer.js';
export { buildVocabulary, encodeTokens, encodeInto, PAD_ID, UNK_ID, PAD_TOKEN, UNK_TOKEN, type VocabularyOptions } from './vocabulary.js';
export { parseIdx, readMaybeGzipped, type IdxArray } from './idx.js';
export { stratifiedPartition, gatherSplit, subsetSplit, resolveSize, shuffleIndices } from './splits.js';
