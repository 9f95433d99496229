import type { Vocabulary } from './dataset.js';

/** Id of the padding token; sequences are padded with it after their last token. */
export const PAD_ID = 0;
/** Id every out-of-vocabulary token maps to. */
export const UNK_ID = 1;
/** Spelling of the reserved tokens in `Vocabulary.tokens`. */
export const PAD_TOKEN = '<pad>';
/** Spelling of the unknown-token entry. */
export const UNK_TOKEN = '<unk>';

/** How to build a vocabulary. */
export interface VocabularyOptions {
  /** Total size including PAD and UNK (the embedding's input dimension). */
  maxSize: number;
  /** Drop tokens seen fewer times than this in the training documents (default 1). */
  minCount?: number;
}

/**
 * Builds a vocabulary from training documents only: PAD=0, UNK=1, then the `maxSize - 2` most
 * frequent tokens (ties broken alphabetically, so the result does not depend on document order).
 */
export function buildVocabulary(documents: Iterable<readonly string[]>, options: VocabularyOptions): Vocabulary {
  if (!Number.isInteger(options.maxSize) || options.maxSize < 3) {
    throw new RangeError(`vocabulary maxSize must be a whole number ≥ 3, got ${options.maxSize}`);
  }
  const minCount = options.minCount ?? 1;
  const counts = new Map<string, number>();
  for (const doc of documents) for (const t of doc) counts.set(t, (counts.get(t) ?? 0) + 1);
  counts.delete(PAD_TOKEN);
  counts.delete(UNK_TOKEN);
  const ranked = [...counts].filter(([, n]) => n >= minCount).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const tokens = [PAD_TOKEN, UNK_TOKEN, ...ranked.slice(0, options.maxSize - 2).map(([t]) => t)];
  return { tokens, ids: new Map(tokens.map((t, i) => [t, i])) };
}

/**
 * Writes the ids of `tokens` into `out[offset, offset + seqLen)`: the first `seqLen` tokens (the
 * subject and the start of the body carry most of the signal), unknown ones as UNK, the rest PAD.
 * Returns how many tokens were cut off.
 */
export function encodeInto(vocabulary: Vocabulary, tokens: readonly string[], seqLen: number, out: Int32Array, offset: number): number {
  const n = Math.min(tokens.length, seqLen);
  for (let i = 0; i < n; i++) out[offset + i] = vocabulary.ids.get(tokens[i] as string) ?? UNK_ID;
  out.fill(PAD_ID, offset + n, offset + seqLen);
  return tokens.length - n;
}

/** The ids of `tokens` as a fresh `seqLen`-long Int32Array (truncated or padded). */
export function encodeTokens(vocabulary: Vocabulary, tokens: readonly string[], seqLen: number): Int32Array {
  const out = new Int32Array(seqLen);
  encodeInto(vocabulary, tokens, seqLen, out, 0);
  return out;
}
