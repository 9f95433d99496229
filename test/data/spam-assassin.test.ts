import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/core/index.js';
import {
  buildVocabulary,
  classCounts,
  encodeTokens,
  loadSpamAssassin,
  PAD_ID,
  UNK_ID,
  type RawEmail,
} from '../../src/data/index.js';

describe('buildVocabulary / encodeTokens', () => {
  it('puts PAD and UNK first, then tokens by frequency with alphabetical ties, capped at maxSize', () => {
    const v = buildVocabulary([['b', 'a', 'c', 'c'], ['a', 'c', 'd', 'b'], ['e']], { maxSize: 5 });
    expect(v.tokens).toEqual(['<pad>', '<unk>', 'c', 'a', 'b']);
    expect(v.ids.get('a')).toBe(3);
    expect(buildVocabulary([['x', 'y', 'y']], { maxSize: 10, minCount: 2 }).tokens).toEqual(['<pad>', '<unk>', 'y']);
  });

  it('truncates the tail, pads after the last token and maps unknown tokens to UNK', () => {
    const v = buildVocabulary([['a', 'b']], { maxSize: 4 });
    expect(Array.from(encodeTokens(v, ['a', 'zzz', 'b'], 5))).toEqual([2, UNK_ID, 3, PAD_ID, PAD_ID]);
    expect(Array.from(encodeTokens(v, ['b', 'a', 'b', 'a'], 2))).toEqual([3, 2]);
  });
});

/**
 * A synthetic corpus: 60 ham and 30 spam mails, each with a unique id word so no two are duplicates,
 * plus "testonlyword" planted in every mail so that, wherever the split puts them, some land in test.
 */
function corpus(): RawEmail[] {
  const mails: RawEmail[] = [];
  for (let i = 0; i < 90; i++) {
    const spam = i % 3 === 0;
    mails.push({
      id: String(i),
      group: spam ? (i % 2 ? 'spam-1' : 'spam-2') : i % 2 ? 'easy-ham-1' : 'hard-ham-1',
      text: `Subject: ${spam ? 'cheap offer' : 'project notes'} id${i}\n\n${spam ? 'buy now $ !' : 'see the attached minutes'} word${i}`,
    });
  }
  return mails;
}

describe('loadSpamAssassin on a synthetic corpus', () => {
  it('splits 20/10/70 with both classes in proportion in every split, deterministically', async () => {
    const a = await loadSpamAssassin({ corpus: corpus(), seed: 5, seqLen: 8 });
    const b = await loadSpamAssassin({ corpus: corpus(), seed: 5, seqLen: 8 });
    const c = await loadSpamAssassin({ corpus: corpus(), seed: 6, seqLen: 8 });
    expect([a.test.count, a.validation.count, a.train.count]).toEqual([18, 7, 65]);
    expect(classCounts(a.test, 2)).toEqual([12, 6]);
    expect(classCounts(a.train, 2)).toEqual([43, 22]);
    expect(Array.from(a.test.sourceIndex)).toEqual(Array.from(b.test.sourceIndex));
    expect(Array.from(a.test.x)).toEqual(Array.from(b.test.x));
    expect(Array.from(a.test.sourceIndex)).not.toEqual(Array.from(c.test.sourceIndex));
    const rows = [...a.train.sourceIndex, ...a.validation.sourceIndex, ...a.test.sourceIndex].sort((p, q) => p - q);
    expect(rows).toEqual(Array.from({ length: 90 }, (_, i) => i));
    expect(a.task).toEqual({ dataset: 'spam-assassin', inputShape: [8], numClasses: 2, kind: 'text', vocabSize: a.vocabulary!.tokens.length });
    expect(a.train.x).toBeInstanceOf(Int32Array);
    // Labels follow the groups: every third mail is spam.
    for (const split of [a.train, a.validation, a.test]) {
      split.sourceIndex.forEach((src, k) => expect(split.y[k]).toBe(src % 3 === 0 ? 1 : 0));
    }
  });

  it('builds the vocabulary from the training split only: a word seen only in test is UNK', async () => {
    const ds = await loadSpamAssassin({ corpus: corpus(), seed: 1, seqLen: 8, minTokenCount: 1 });
    const vocab = ds.vocabulary!;
    const trainIds = new Set(ds.train.sourceIndex);
    for (let k = 0; k < ds.test.count; k++) {
      const src = ds.test.sourceIndex[k]!;
      // The unique words of a test mail never reach the vocabulary…
      expect(vocab.ids.has(`id${src}`)).toBe(false);
      expect(vocab.ids.has(`word${src}`)).toBe(false);
      // …so they encode as UNK: tokens are [subject ×2, idN, body…, wordN].
      const row = Array.from(ds.test.x.subarray(k * 8, (k + 1) * 8));
      expect(row[2]).toBe(UNK_ID);
      expect(row).toContain(UNK_ID);
    }
    for (const src of trainIds) expect(vocab.ids.has(`id${src}`)).toBe(true);
  });

  it('drops exact duplicates so a mail cannot sit in both train and test', async () => {
    const mails = corpus();
    mails.push({ ...mails[0]!, id: 'copy', text: mails[0]!.text.replace('Subject:', 'Received: elsewhere\nSubject:') });
    const ds = await loadSpamAssassin({ corpus: mails, seqLen: 4 });
    expect(ds.train.count + ds.validation.count + ds.test.count).toBe(90);
    expect(ds.provenance.notes[0]).toBe('91 messages, 1 exact duplicates dropped, 90 kept');
  });

  it('caps the vocabulary, pads and truncates to seqLen, and takes stratified train subsets', async () => {
    const ds = await loadSpamAssassin({ corpus: corpus(), vocabSize: 6, seqLen: 3, trainSubset: 30 });
    expect(ds.task.vocabSize).toBe(6);
    expect(ds.train.count).toBe(30);
    expect(classCounts(ds.train, 2)).toEqual([20, 10]);
    expect(Math.max(...ds.train.x)).toBeLessThan(6);
    const short = await loadSpamAssassin({ corpus: [{ group: 'ham', text: 'Subject: a\n\nb' }, { group: 'ham', text: 'Subject: a\n\nc' }, { group: 'spam-1', text: 'Subject: a\n\nd' }, { group: 'spam-2', text: 'Subject: a\n\ne' }], seqLen: 4, testSize: 2, validationSize: 0, minTokenCount: 1 });
    expect(Array.from(short.train.x.subarray(2, 4))).toEqual([PAD_ID, PAD_ID]);
  });

  it('rejects a damaged corpus and bad options with UserErrors', async () => {
    await expect(loadSpamAssassin({ corpus: [...corpus(), { group: 'misc', text: 'x' }] })).rejects.toThrow(/unknown group "misc"/);
    await expect(loadSpamAssassin({ corpus: [{ group: 'spam-1' } as RawEmail] })).rejects.toThrow(/has no text or group/);
    await expect(loadSpamAssassin({ corpus: corpus().filter((m) => m.group.includes('ham')) })).rejects.toThrow(/no spam messages/);
    await expect(loadSpamAssassin({ corpus: corpus(), seqLen: 0 })).rejects.toBeInstanceOf(UserError);
    await expect(loadSpamAssassin({ corpus: corpus(), testSize: 0.6, validationSize: 36 })).rejects.toThrow(/leave no training data/);
  });
});

describe('loadSpamAssassin on the real npm corpus', () => {
  it('loads the corpus with stratified splits and a train-only vocabulary', async () => {
    const ds = await loadSpamAssassin({ seed: 0 });
    const total = ds.train.count + ds.validation.count + ds.test.count;
    expect(ds.provenance.notes[0]).toMatch(/^6046 messages, \d+ exact duplicates dropped/);
    expect(total).toBeGreaterThan(5500);
    expect(ds.test.count).toBe(Math.round(total * 0.2));
    expect(ds.task.vocabSize).toBe(10000);
    expect(ds.task.inputShape).toEqual([256]);
    const spamShare = (c: number[]) => c[1]! / (c[0]! + c[1]!);
    const overall = spamShare([0, 1].map((k) => classCounts(ds.train, 2)[k]! + classCounts(ds.validation, 2)[k]! + classCounts(ds.test, 2)[k]!));
    for (const split of [ds.train, ds.validation, ds.test]) expect(Math.abs(spamShare(classCounts(split, 2)) - overall)).toBeLessThan(0.005);
    // Every id is inside the vocabulary; padding only after the last real token.
    expect(Array.from(ds.test.x).reduce((m, t) => Math.max(m, t), 0)).toBeLessThan(10000);
    for (let k = 0; k < 50; k++) {
      const row = Array.from(ds.train.x.subarray(k * 256, (k + 1) * 256));
      const firstPad = row.indexOf(PAD_ID);
      if (firstPad !== -1) expect(row.slice(firstPad).every((t) => t === PAD_ID)).toBe(true);
      expect(row[0]).not.toBe(PAD_ID);
    }
  });
});
