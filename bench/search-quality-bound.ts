/**
 * How much of a combo's hypervolume regret the top of the accuracy range alone accounts for (run by
 * hand, not in CI). A strategy searches accuracy alone for `budget` evaluations; the best accuracy it
 * reaches cuts the whole table's front: the regret of every cell at most that accurate is what a
 * multi-objective run with that best accuracy cannot go below, even if it found the rest of the
 * front for free. With `--split VARIANT_JSON` it instead runs the multi-objective surrogate with those
 * options and splits each seed's regret into that top-end part and the rest.
 *
 * `node dist/bench/search-quality-bound.js --combo 'imagenet16-120:accuracy,latency.raspi4' --strategy surrogate --budgets 50,70,100 --seeds 20`
 */
import { parseArgs } from 'node:util';
import type { SurrogateOptions } from '../src/controller/strategies/surrogate.js';
import { strategies } from '../src/controller/strategies/index.js';
import { toLosses } from '../src/objectives/index.js';
import { nasbench201Records } from '../search-spaces/nasbench201/index.js';
import { comboTruth, hypervolumeRegret, median, regretAfter, runStrategy, surrogateVariant, type BenchTrial, type Combo } from './search-quality-loop.js';

const { values: args } = parseArgs({
  options: {
    combo: { type: 'string', default: 'imagenet16-120:accuracy,latency.raspi4' },
    strategy: { type: 'string', default: 'surrogate' },
    budgets: { type: 'string', default: '100' },
    seeds: { type: 'string', default: '20' },
    split: { type: 'string' },
  },
});

const [dataset, objectives] = (args.combo as string).split(':') as [string, string];
const combo: Combo = { dataset, objectives };
const truth = comboTruth(combo);
if (truth.objectives[0]?.name !== 'accuracy') throw new Error(`--combo: the first objective must be accuracy, got '${objectives}'`);
const needed = truth.objectives.flatMap((o) => o.requires);
const cells = nasbench201Records(dataset)
  .filter((r) => needed.every((n) => n in r.metrics))
  .map((r) => ({ accuracy: r.metrics.accuracy as number, losses: toLosses(truth.objectives, r.metrics) }));
const seeds = Array.from({ length: Number(args.seeds) }, (_, i) => i);
const budgets = (args.budgets as string).split(',').map(Number);

/** Best accuracy among the completed trials (accuracy is the first objective, its loss negated). */
function bestAccuracy(trials: readonly BenchTrial[]): number {
  return Math.max(...trials.flatMap((t) => (t.losses ? [-(t.losses[0] as number)] : [])));
}

/** Regret of the whole table's cells that are at most `best` accurate. */
function topEndPart(best: number): number {
  return hypervolumeRegret(
    truth,
    cells.filter((c) => c.accuracy <= best + 1e-12).map((c) => c.losses),
  );
}

const pct = (a: number) => (100 * a).toFixed(2);

if (args.split) {
  const def = surrogateVariant('surrogate', JSON.parse(args.split) as SurrogateOptions);
  for (const budget of budgets) {
    const rows = seeds.map((seed) => {
      const trials = runStrategy(def, combo, truth.objectives, seed, budget);
      const best = bestAccuracy(trials);
      const regret = regretAfter(truth, trials, budget);
      return { best, regret, top: topEndPart(best) };
    });
    process.stdout.write(
      `${args.combo} surrogate ${args.split} @${budget}: median regret ${median(rows.map((r) => r.regret)).toFixed(4)}, ` +
        `top-end part ${median(rows.map((r) => r.top)).toFixed(4)}, rest ${median(rows.map((r) => r.regret - r.top)).toFixed(4)}, ` +
        `best accuracy ${pct(median(rows.map((r) => r.best)))} %\n`,
    );
  }
} else {
  const def = strategies.find((s) => s.name === args.strategy);
  if (!def) throw new Error(`--strategy: unknown strategy '${args.strategy}'`);
  const accuracyOnly: Combo = { dataset, objectives: 'accuracy' };
  const accuracyObjectives = comboTruth(accuracyOnly).objectives;
  for (const budget of budgets) {
    const rows = seeds.map((seed) => {
      const best = bestAccuracy(runStrategy(def, accuracyOnly, accuracyObjectives, seed, budget));
      return { best, bound: topEndPart(best) };
    });
    process.stdout.write(
      `${args.combo} ${def.name} on accuracy alone @${budget}: median best accuracy ${pct(median(rows.map((r) => r.best)))} %, ` +
        `median top-end regret ${median(rows.map((r) => r.bound)).toFixed(4)}  [${rows.map((r) => r.bound.toFixed(3)).join(' ')}]\n`,
    );
  }
}
