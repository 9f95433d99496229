/**
 * Tuning loop for the surrogate strategy (run by hand): regret of option variants of
 * SurrogateStrategy on NAS-Bench-201 combos, median over seeds, no peers. The full comparison with
 * Optuna is bench/search-quality.ts; this is the fast inner loop used to choose the defaults.
 *
 * `node dist/bench/search-quality-tune.js --seeds 10 --budgets 100 --variants 'base={};ehvi={"acquisition":"ehvi"}'`
 */
import { parseArgs } from 'node:util';
import type { SurrogateOptions } from '../src/controller/strategies/surrogate.js';
import { comboTruth, median, regretAfter, runStrategy, surrogateVariant, type Combo } from './search-quality-loop.js';

const { values: args } = parseArgs({
  options: {
    seeds: { type: 'string', default: '10' },
    'first-seed': { type: 'string', default: '0' },
    budgets: { type: 'string', default: '100' },
    combos: { type: 'string', default: 'cifar10:accuracy,latency.edgegpu,energy.edgegpu' },
    variants: { type: 'string', default: 'default={}' },
  },
});

const first = Number(args['first-seed']);
const seeds = Array.from({ length: Number(args.seeds) }, (_, i) => first + i);
const budgets = (args.budgets as string).split(',').map(Number);
const combos: Combo[] = (args.combos as string).split(';').map((c) => {
  const [dataset, objectives] = c.split(':');
  return { dataset: dataset as string, objectives: objectives as string };
});
const variants = (args.variants as string).split(';').map((v) => {
  const at = v.indexOf('=');
  return surrogateVariant(v.slice(0, at), JSON.parse(v.slice(at + 1)) as SurrogateOptions);
});

for (const combo of combos) {
  const truth = comboTruth(combo);
  process.stdout.write(`${combo.dataset}: ${combo.objectives}\n`);
  for (const def of variants) {
    const regrets: Record<number, number[]> = {};
    let seconds = 0;
    for (const seed of seeds) {
      const t0 = performance.now();
      const trials = runStrategy(def, combo, truth.objectives, seed, Math.max(...budgets));
      seconds += (performance.now() - t0) / 1000;
      for (const b of budgets) (regrets[b] ??= []).push(regretAfter(truth, trials, b));
    }
    const cells = budgets.map((b) => `@${b} ${median(regrets[b]!).toFixed(4)} (mean ${(regrets[b]!.reduce((s, r) => s + r, 0) / seeds.length).toFixed(4)})`);
    process.stdout.write(`  ${def.name.padEnd(14)} ${cells.join('  ')}  ${(seconds / seeds.length).toFixed(2)} s/run  [${regrets[budgets[0]!]!.map((r) => r.toFixed(3)).join(' ')}]\n`);
  }
}
