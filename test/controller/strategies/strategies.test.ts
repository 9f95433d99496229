import { describe, expect, it } from 'vitest';
import { TrialError, createRng } from '../../../src/core/index.js';
import { DEFAULT_STRATEGY, strategies } from '../../../src/controller/strategies/index.js';
import { SurrogateStrategy, balancedDesign, dominationDepth, shiftToDominate, type SurrogateOptions } from '../../../src/controller/strategies/surrogate.js';
import type { Strategy, StrategyContext, StrategyDefinition, TrialOutcome } from '../../../src/controller/strategy.js';
import { buildObjectives, toLosses, type Objective } from '../../../src/objectives/index.js';
import type { ArchJson, SearchSpace } from '../../../src/space/index.js';
import { nasbench201 } from '../../../search-spaces/nasbench201/index.js';
import { createGridSpace } from '../../fixtures/spaces/grid-space.js';

const objectives = buildObjectives('accuracy,latency.edgegpu,energy.edgegpu', nasbench201.metrics('cifar10'));

/** A space looked up on one dataset through some objectives. */
interface Problem<A extends ArchJson> {
  space: SearchSpace<A>;
  dataset: string;
  objectives: Objective[];
}

const nb201: Problem<string> = { space: nasbench201, dataset: 'cifar10', objectives };

/** Evaluates `arch` as a study would: a TrialError is a failed trial. */
function outcomeIn<A extends ArchJson>({ space, dataset, objectives: objs }: Problem<A>, arch: A): TrialOutcome<A> {
  const key = space.key(arch);
  try {
    const values = space.evaluate!(arch, { dataset, metrics: objs.flatMap((o) => o.requires) }) as { name: string; value: number }[];
    return { arch, key, state: 'complete', losses: toLosses(objs, Object.fromEntries(values.map((v) => [v.name, v.value]))) };
  } catch (err) {
    if (err instanceof TrialError) return { arch, key, state: 'failed' };
    throw err;
  }
}

const outcomeOf = (arch: string) => outcomeIn(nb201, arch);

/** Runs a strategy sequentially with de-duplication, as a study does, for `asks` of its `budget`; returns the asked keys. */
function runIn<A extends ArchJson>(problem: Problem<A>, create: (ctx: StrategyContext<A>) => Strategy<A>, seed: number, budget: number, asks = budget): string[] {
  const { space, objectives: objs } = problem;
  const seen = new Set<string>();
  const s = create({ space, rng: createRng(seed), objectives: objs, budget, isSeen: (k) => seen.has(k) });
  const keys: string[] = [];
  for (let t = 0; t < asks; t++) {
    const arch = s.ask();
    const key = space.key(arch);
    keys.push(key);
    seen.add(key);
    s.tell(outcomeIn(problem, arch));
  }
  return keys;
}

const run = (def: StrategyDefinition, seed: number, budget: number) => runIn(nb201, (ctx) => def.create(ctx), seed, budget);

describe('built-in strategies', () => {
  it('lists five strategies with the surrogate as default', () => {
    expect(strategies.map((s) => s.name).sort()).toEqual(['evolution', 'nsga2', 'random', 'reinforce', 'surrogate']);
    expect(DEFAULT_STRATEGY).toBe('surrogate');
  });

  for (const def of strategies) {
    describe(def.name, () => {
      it('is deterministic: same seed and tells give the same asks, another seed differs', () => {
        const a = run(def, 11, 40);
        expect(run(def, 11, 40)).toEqual(a);
        expect(run(def, 12, 40)).not.toEqual(a);
        // Proposals avoid what was already seen.
        expect(new Set(a).size).toBe(a.length);
      });

      it('accepts outstanding asks and out-of-order tells, avoiding pending keys', () => {
        const seen = new Set<string>();
        const s = def.create<string>({ space: nasbench201, rng: createRng(3), objectives, budget: 60, isSeen: (k) => seen.has(k) });
        const asked: string[] = [];
        for (let round = 0; round < 8; round++) {
          const batch = [0, 1, 2, 3].map(() => {
            const arch = s.ask();
            seen.add(nasbench201.key(arch));
            asked.push(nasbench201.key(arch));
            return arch;
          });
          for (const arch of batch.reverse()) s.tell(outcomeOf(arch));
        }
        expect(new Set(asked).size).toBe(asked.length);
      });

      it('returns instead of looping when every key is already seen', () => {
        const grid = createGridSpace() as unknown as SearchSpace<ArchJson>;
        const s = def.create<ArchJson>({ space: grid, rng: createRng(1), objectives: buildObjectives('accuracy,latency.toy', grid.metrics('toy')), budget: 10, isSeen: () => true });
        for (let i = 0; i < 3; i++) expect(grid.key(s.ask())).toMatch(/^\d-\d-\d$/);
      });
    });
  }

  it('evolution mutates a population member once the initial population is in', () => {
    const evolution = strategies.find((s) => s.name === 'evolution')!;
    const seen = new Set<string>();
    const s = evolution.create<string>({ space: nasbench201, rng: createRng(5), objectives, budget: 50, isSeen: (k) => seen.has(k) });
    const told: string[] = [];
    for (let t = 0; t < 10; t++) {
      const arch = s.ask();
      seen.add(arch);
      const o = outcomeOf(arch);
      s.tell(o);
      if (o.state === 'complete') told.push(arch);
    }
    const child = nasbench201.encode(s.ask());
    const distances = told.map((p) => nasbench201.encode(p).filter((c, i) => c !== child[i]).length);
    expect(Math.min(...distances)).toBe(1);
  });

  it('reinforce shifts probability toward rewarded choices', () => {
    const reinforce = strategies.find((s) => s.name === 'reinforce')!;
    const single = buildObjectives('latency.raspi4', nasbench201.metrics('cifar10'));
    const s = reinforce.create<string>({ space: nasbench201, rng: createRng(2), objectives: single, budget: 400, isSeen: () => false });
    const noneOnLastEdge = (arch: string) => nasbench201.encode(arch)[5] === 0;
    let early = 0;
    let late = 0;
    for (let t = 0; t < 400; t++) {
      const arch = s.ask();
      // Reward only cutting the last edge: loss 0 when it is `none`, else 1.
      s.tell({ arch, key: arch, state: 'complete', losses: [noneOnLastEdge(arch) ? 0 : 1] });
      if (t < 20 && noneOnLastEdge(arch)) early++;
      if (t >= 300 && noneOnLastEdge(arch)) late++;
    }
    // Uniform sampling cuts the edge 1 time in 5; the trained policy almost always.
    expect(early).toBeLessThan(12);
    expect(late).toBeGreaterThan(90);
  });

  it('surrogate starts from a balanced design: every choice of every decision equally often', () => {
    const firstTen = (options: SurrogateOptions) => runIn(nb201, (ctx) => new SurrogateStrategy(ctx, options), 5, 100, 10).map((key) => nasbench201.encode(key));
    const counts = (rows: number[][]) => nasbench201.decisions().map((d, i) => d.choices.map((_, c) => rows.filter((r) => r[i] === c).length));
    // 10 initial samples, 5 ops per edge: each op twice on every edge.
    for (const perChoice of counts(firstTen({}))) expect(perChoice).toEqual([2, 2, 2, 2, 2]);
    expect(counts(firstTen({ initialDesign: 'random' })).some((perChoice) => perChoice.some((n) => n !== 2))).toBe(true);
  });

  it('the surrogate screens: depth ranks a gap in the front with new ground, the default favours steps next to a member', () => {
    const front = [
      [0, 1],
      [1, 0],
    ];
    const gap = [0.4, 0.4];
    const nextToMember = [0, 0.999];
    const dominated = [0.5, 1.2];
    expect(dominationDepth(gap, front)).toBeCloseTo(-0.6, 12);
    expect(dominationDepth(nextToMember, front)).toBeCloseTo(-0.001, 12);
    expect(dominationDepth(dominated, front)).toBeCloseTo(0.2, 12);
    // The default: the shift needed to dominate some member.
    expect(shiftToDominate(gap, front)).toBeCloseTo(0.4, 12);
    expect(shiftToDominate(nextToMember, front)).toBeCloseTo(0, 12);
    expect(shiftToDominate(dominated, front)).toBeCloseTo(0.5, 12);
    expect(shiftToDominate([-0.1, 0.9], front)).toBeCloseTo(-0.1, 12);
    // Three objectives: beyond the front in one objective only is still non-dominated.
    expect(dominationDepth([0.5, 0.5, -0.1], [[0, 0, 0]])).toBeCloseTo(-0.1, 12);
    expect(dominationDepth([0.5, 0.5, 0.1], [[0, 0, 0]])).toBeCloseTo(0.1, 12);
    expect(shiftToDominate([0.5, 0.5, -0.1], [[0, 0, 0]])).toBeCloseTo(0.5, 12);
    // The option reaches the strategy: same initial design, different model-based asks.
    const asks = (options: SurrogateOptions) => runIn(nb201, (ctx) => new SurrogateStrategy(ctx, options), 2, 40, 20);
    const near = asks({});
    const depth = asks({ screen: 'depth' });
    expect(depth.slice(0, 10)).toEqual(near.slice(0, 10));
    expect(depth.slice(10)).not.toEqual(near.slice(10));
  });

  it('a balanced design spreads uneven counts and more choices than rows at random', () => {
    const decisions = [
      { name: 'five', choices: [0, 1, 2, 3, 4] },
      { name: 'twelve', choices: Array.from({ length: 12 }, (_, i) => i) },
    ];
    const used = new Set<number>();
    for (let seed = 0; seed < 5; seed++) {
      const rows = balancedDesign(decisions, 7, createRng(seed));
      expect(rows).toHaveLength(7);
      const five = [0, 1, 2, 3, 4].map((c) => rows.filter((r) => r[0] === c).length);
      expect(Math.max(...five) - Math.min(...five)).toBe(1);
      const twelve = rows.map((r) => r[1] as number);
      expect(new Set(twelve).size).toBe(7);
      for (const c of twelve) used.add(c);
    }
    // Not always the first seven choices.
    expect(Math.max(...used)).toBeGreaterThan(6);
  });

  it('surrogate improvement asks begin at the configured share of the budget', () => {
    const space = createGridSpace();
    const grid = { space, dataset: 'toy', objectives: buildObjectives('accuracy,latency.toy', space.metrics('toy')) };
    const asks = (options: SurrogateOptions) => runIn(grid, (ctx) => new SurrogateStrategy(ctx, options), 4, 40);
    const never = asks({ improvementPeriod: 0 });
    const fromHalf = asks({});
    const fromStart = asks({ improvementFrom: 0 });
    // The default starts them after half the budget: the first 20 asks are the same as with none.
    expect(fromHalf.slice(0, 20)).toEqual(never.slice(0, 20));
    expect(fromHalf.slice(20)).not.toEqual(never.slice(20));
    // From the start, they change the asks right after the 10 initial samples and 2 extremes.
    expect(fromStart.slice(0, 12)).toEqual(never.slice(0, 12));
    expect(fromStart.slice(12, 20)).not.toEqual(never.slice(12, 20));
  });

  it('surrogate: a failed trial leaves its function untried, a pending or completed one marks it', () => {
    const seen = new Set<string>();
    const s = new SurrogateStrategy<string>({ space: nasbench201, rng: createRng(3), objectives, budget: 40, isSeen: (k) => seen.has(k) });
    // Three fully cut cells: equal path features, so the same function.
    const [a, b, c] = ['|none~0|+|none~0|none~1|+|none~0|none~1|none~2|', '|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|', '|skip_connect~0|+|avg_pool_3x3~0|none~1|+|none~0|none~1|none~2|'] as const;
    const other = '|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|';
    expect(s.isTriedFunction(b)).toBe(false);
    s.tell({ arch: a, key: a, state: 'failed' });
    expect(s.isTriedFunction(b)).toBe(false);
    const asked = s.ask();
    seen.add(asked);
    // While an ask is out, its function counts as tried (concurrent asks spread out).
    expect(s.isTriedFunction(asked)).toBe(true);
    s.tell({ arch: asked, key: asked, state: 'failed' });
    expect(s.isTriedFunction(asked)).toBe(false);
    s.tell(outcomeOf(c));
    expect(s.isTriedFunction(b)).toBe(true);
    expect(s.isTriedFunction(other)).toBe(false);
  });

  it('the default finds a better front than random search on nasbench201 (3 seeds, 60 trials)', async () => {
    const { hypervolume } = await import('../../../src/objectives/index.js');
    const regretish = (def: StrategyDefinition, seed: number) => {
      const keys = run(def, seed, 60);
      const pts = keys.map((k) => outcomeOf(k)).filter((o) => o.losses).map((o) => o.losses as number[]);
      // Fixed frame around the table's range: accuracy [-1, 0], latency [0, 12] ms, energy [0, 45] mJ.
      return hypervolume(pts.map((p) => [1 + (p[0] as number), (p[1] as number) / 12, (p[2] as number) / 45]), [1.1, 1.1, 1.1]);
    };
    const byName = (n: string) => strategies.find((s) => s.name === n)!;
    const surrogate = [1, 2, 3].map((seed) => regretish(byName('surrogate'), seed)).sort()[1] as number;
    const random = [1, 2, 3].map((seed) => regretish(byName('random'), seed)).sort()[1] as number;
    expect(surrogate).toBeGreaterThan(random);
  });
});
