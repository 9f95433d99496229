import type { CommandModule } from 'yargs';
import { existsSync, readFileSync } from 'node:fs';
import { createStderrLogger, UserError } from '../../core/index.js';
import { commonOptions, printJson } from '../options.js';
import { evaluatorOptionsFrom, proxyOptions, resolveProxyConfig, type ProxyArgs } from '../proxy-options.js';
import { resolveSpace, spaceModulePath, DEFAULT_SPACE } from '../search-setup.js';

interface TrainArgs extends ProxyArgs {
  space?: string;
  arch?: string;
  dataset?: string;
  seed?: string;
  json: boolean;
  verbose: boolean;
}

/** Reads --arch: inline JSON, or a file holding JSON (a quoted string is a valid architecture too). */
function readArch(value: string): unknown {
  const text = value.trim().startsWith('{') || value.trim().startsWith('[') || value.trim().startsWith('"') ? value : existsSync(value) ? readFileSync(value, 'utf8') : undefined;
  if (text === undefined) throw new UserError(`--arch '${value}' is neither JSON nor an existing file. Fix: pass the architecture as JSON or the path of a .json file (e.g. from greennas trials --json).`, { subject: '--arch' });
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new UserError(`--arch: not valid JSON (${(err as Error).message}). Fix: pass a JSON object such as the arch field of greennas trials --json.`, { subject: '--arch' });
  }
}

/** `greennas train`: trains and evaluates one architecture with the proxy settings a search would use. */
export const trainCommand: CommandModule<object, TrainArgs> = {
  command: 'train',
  describe: 'Train and evaluate one architecture with the proxy-training settings of a search',
  builder: (y) =>
    y.options({
      space: { type: 'string', describe: `Trained search space: built-in name or plug-in path (default ${DEFAULT_SPACE})`, requiresArg: true },
      arch: { type: 'string', describe: 'The architecture: JSON, or a file holding it', requiresArg: true, demandOption: true },
      dataset: { type: 'string', describe: "Dataset (default: the space's first)", requiresArg: true },
      seed: { type: 'string', describe: 'Seed of the data split, initialisers and batch order (default 0)', requiresArg: true },
      ...proxyOptions,
      ...commonOptions,
    }) as never,
  handler: async (args) => {
    const logger = createStderrLogger({ verbose: args.verbose, quiet: args.json });
    const spec = args.space ?? DEFAULT_SPACE;
    const space = await resolveSpace(spec);
    if (typeof space.build !== 'function') throw new UserError(`--space ${space.name} is not a trained space (it has no build(arch, task)). Fix: pick a trained space such as mobilenet or transformer.`, { subject: '--space' });
    const arch = space.validate(readArch(args.arch ?? ''));
    const dataset = args.dataset ?? (space.datasets[0] as string);
    if (!space.datasets.includes(dataset)) throw new UserError(`--dataset '${dataset}' is not a dataset of space ${space.name}. Fix: use one of ${space.datasets.join(', ')}.`, { subject: '--dataset' });
    const seed = args.seed === undefined ? 0 : Number(args.seed);
    if (!Number.isSafeInteger(seed) || seed < 0) throw new UserError(`--seed must be a whole number ≥ 0, got '${args.seed}'. Fix: pass e.g. --seed 1.`, { subject: '--seed' });
    const config = await resolveProxyConfig(args, dataset);
    const { TrainerEvaluator } = await import('../../trainer/trainer-evaluator.js');
    const evaluator = await TrainerEvaluator.create({ ...evaluatorOptionsFrom({ ...config, workers: 1 }, dataset, seed), spaceModule: spaceModulePath(spec), logger });
    try {
      const t0 = performance.now();
      const result = await evaluator.evaluateDetailed(arch as never, 'train');
      const wallS = (performance.now() - t0) / 1000;
      if (args.json) {
        printJson({ space: space.name, dataset, arch, backend: result.backend.name, wallS, metrics: result.metrics, curve: result.curve });
        return;
      }
      logger.info(`${space.label?.(arch as never) ?? JSON.stringify(arch)} on ${dataset}: ${wallS.toFixed(1)} s on ${result.backend.name}`);
      const rows = result.metrics.map((m) => [m.name, Number(m.value.toPrecision(5)).toString(), m.unit, m.source]);
      const widths = [0, 1, 2, 3].map((c) => Math.max(...[['metric', 'value', 'unit', 'source'], ...rows].map((r) => (r[c] as string).length)));
      const line = (r: string[]) => r.map((v, c) => v.padEnd(widths[c] as number)).join('  ').trimEnd() + '\n';
      process.stdout.write(line(['metric', 'value', 'unit', 'source']) + rows.map(line).join(''));
    } finally {
      await evaluator.close();
    }
  },
};
