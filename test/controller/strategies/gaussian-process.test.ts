import { describe, expect, it } from 'vitest';
import { HammingGaussianProcess } from '../../../src/controller/strategies/index.js';

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
