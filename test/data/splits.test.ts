import { describe, expect, it } from 'vitest';
import { createRng, UserError } from '../../src/core/index.js';
import { resolveSize, stratifiedPartition } from '../../src/data/index.js';

describe('stratifiedPartition', () => {
  // 70 / 30 imbalanced, interleaved labels.
  const labels = Int32Array.from({ length: 100 }, (_, i) => (i % 10 < 3 ? 1 : 0));

  it('gives exact part sizes, class proportions and a disjoint cover', () => {
    const [test, validation, train] = stratifiedPartition(labels, 2, [20, 10], createRng(7));
    expect([test!.length, validation!.length, train!.length]).toEqual([20, 10, 70]);
    const count = (idx: Int32Array, c: number) => Array.from(idx).filter((i) => labels[i] === c).length;
    expect([count(test!, 0), count(test!, 1)]).toEqual([14, 6]);
    expect([count(validation!, 0), count(validation!, 1)]).toEqual([7, 3]);
    const all = [...test!, ...validation!, ...train!].sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: 100 }, (_, i) => i));
    for (const part of [test!, validation!, train!]) expect(Array.from(part)).toEqual([...part].sort((a, b) => a - b));
  });

  it('rounds with largest remainders so totals stay exact', () => {
    const three = Int32Array.from({ length: 10 }, (_, i) => i % 3); // 4 / 3 / 3
    const [part] = stratifiedPartition(three, 3, [5], createRng(1));
    expect(part!.length).toBe(5);
    const counts = [0, 1, 2].map((c) => Array.from(part!).filter((i) => three[i] === c).length);
    expect(counts).toEqual([2, 2, 1]);
  });

  it('is a function of the seed', () => {
    const a = stratifiedPartition(labels, 2, [20], createRng('s'));
    const b = stratifiedPartition(labels, 2, [20], createRng('s'));
    const c = stratifiedPartition(labels, 2, [20], createRng('t'));
    expect(Array.from(a[0]!)).toEqual(Array.from(b[0]!));
    expect(Array.from(a[0]!)).not.toEqual(Array.from(c[0]!));
  });
});

describe('resolveSize', () => {
  it('reads fractions and counts', () => {
    expect(resolveSize(0.1, 60000, '--x')).toBe(6000);
    expect(resolveSize(500, 60000, '--x')).toBe(500);
    expect(resolveSize(0, 10, '--x')).toBe(0);
  });

  it('rejects negative and fractional counts, naming the flag', () => {
    for (const bad of [-1, 1.5, Number.NaN]) {
      try {
        resolveSize(bad, 10, '--validation-size');
        throw new Error('no error');
      } catch (err) {
        expect(err).toBeInstanceOf(UserError);
        expect((err as UserError).subject).toBe('--validation-size');
      }
    }
  });
});
