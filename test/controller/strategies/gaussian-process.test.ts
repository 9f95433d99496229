import { describe, expect, it } from 'vitest';
import { HammingGaussianProcess } from '../../../src/controller/strategies/index.js';
import { kernelTable, maskKernel } from '../../../src/controller/strategies/gaussian-process.js';

describe('HammingGaussianProcess', () => {
  // y depends on decision 0 strongly and decision 1 weakly; decision 2 is irrelevant.
  const f = (x: number[]) => 3 * (x[0] === 2 ? 1 : 0) + 0.5 * (x[1] as number);
  const xs: number[][] = [];
  for (let a = 0; a < 4; a++) for (let b = 0; b < 3; b++) for (let c = 0; c < 3; c++) if ((a + b + c) % 2 === 0) xs.push([a, b, c]);

  it('interpolates its data and is unsure far from it', () => {
    const gp = new HammingGaussianProcess();
    gp.fit(xs, xs.map(f), true);
    for (const x of xs.slice(0, 5)) expect(gp.predictMean(x)).toBeCloseTo(f(x), 0);
    const seen = gp.predict(xs[0] as number[]);
    const unseen = gp.predict([9, 9, 9]);
    expect(unseen.std).toBeGreaterThan(seen.std);
  });

  it('generalises to held-out points better than the mean', () => {
    // The plain Hamming kernel, so that its weights alone carry the relevance checked below.
    const gp = new HammingGaussianProcess({ additiveGrid: [0] });
    gp.fit(xs, xs.map(f), true);
    const held: number[][] = [];
    for (let a = 0; a < 4; a++) for (let b = 0; b < 3; b++) for (let c = 0; c < 3; c++) if ((a + b + c) % 2 === 1) held.push([a, b, c]);
    const mean = xs.map(f).reduce((s, v) => s + v, 0) / xs.length;
    const errGp = held.reduce((s, x) => s + (gp.predictMean(x) - f(x)) ** 2, 0);
    const errMean = held.reduce((s, x) => s + (mean - f(x)) ** 2, 0);
    expect(errGp).toBeLessThan(errMean * 0.25);
    // ARD: the irrelevant decision gets less weight than the one that matters most.
    expect(gp.weights[2]).toBeLessThan(gp.weights[0] as number);
  });

  it('chooses the additive kernel for an additive target and predicts unseen combinations of choices', () => {
    // y is a sum of per-decision costs: what a cell's latency nearly is.
    const cost = [
      [0, 1, 2, 3],
      [0, 2, 4, 6],
      [0, 3, 1, 2],
    ];
    const g = (x: number[]) => x.reduce((s, c, d) => s + (cost[d]?.[c] as number), 0);
    const train = xs.map((x) => [x[0] as number, x[1] as number, x[2] as number]);
    const gp = new HammingGaussianProcess();
    gp.fit(train, train.map(g), true);
    expect(gp.additive).toBeGreaterThan(0);
    const held: number[][] = [];
    for (let a = 0; a < 4; a++) for (let b = 0; b < 3; b++) for (let c = 0; c < 3; c++) if ((a + b + c) % 2 === 1) held.push([a, b, c]);
    const plain = new HammingGaussianProcess({ additiveGrid: [0] });
    plain.fit(train, train.map(g), true);
    const err = (m: HammingGaussianProcess) => held.reduce((s, x) => s + (m.predictMean(x) - g(x)) ** 2, 0);
    expect(err(gp)).toBeLessThan(err(plain));
  });

  it('shares mismatch masks across models fitted on the same inputs', () => {
    const a = new HammingGaussianProcess();
    const b = new HammingGaussianProcess();
    a.fit(xs, xs.map(f), true);
    b.fit(xs, xs.map((x) => -f(x)), true);
    const masks = a.masksAgainst([1, 2, 0])!;
    expect(b.meanFromMasks(masks)).toBeCloseTo(b.predictMean([1, 2, 0]), 12);
  });
});

describe('kernel values from mismatch masks', () => {
  it('are the same, to the last bit, computed one mask at a time (the tuner) or as a table (predictions)', () => {
    // The tuner's trial fits use maskKernel; the fit that predictions use reads kernelTable. If the
    // two disagreed, hyperparameters would be chosen for a kernel the predictions do not use.
    for (const [weights, additive] of [
      [[1, 1, 1, 1, 1, 1, 1, 1, 1, 1], 0],
      [[0.5, 2, 0, 0.1, 5, 1.3, 0.7, 0.25, 3.1, 0.9], 0.9],
      [[0.3, 0.03, 1.7, 0, 0.2, 8, 0.6, 1.1, 0.45, 2.2, 0.05, 0.8, 4, 0.15, 0.9, 1.25], 0.5],
    ] as const) {
      const table = kernelTable(weights, additive);
      expect(table).toHaveLength(2 ** weights.length);
      for (let mask = 0; mask < table.length; mask++) expect(maskKernel(mask, weights, additive)).toBe(table[mask]);
    }
    // Spot values: no mismatch is 1; one mismatch on a decision of weight 2 in 10 decisions with share 0.9.
    expect(maskKernel(0, [1, 2, 3], 0.5)).toBe(1);
    expect(maskKernel(0b10, [0.5, 2, 0, 0.1, 5, 1.3, 0.7, 0.25, 3.1, 0.9], 0.9)).toBeCloseTo(0.9 * 0.9 + 0.1 * Math.exp(-2), 15);
  });
});
