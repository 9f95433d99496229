import type { CommandModule } from 'yargs';
import { commonOptions, printJson } from '../options.js';
import { builtinSpaces } from '../builtin-spaces.js';
import { renderTable } from '../format.js';

interface SpacesArgs { json: boolean }

/** `greennas spaces`: the built-in search spaces, their datasets and metrics. */
export const spacesCommand: CommandModule<object, SpacesArgs> = {
  command: 'spaces',
  describe: 'List the built-in search spaces, their datasets and metrics',
  builder: (y) => y.options({ json: commonOptions.json }),
  handler: async (args) => {
    const spaces = await Promise.all(Object.keys(builtinSpaces).map(async (name) => {
      const space = await (builtinSpaces[name] as () => Promise<import('../../space/index.js').SearchSpace>)();
      return {
        name, version: space.version, description: space.description, datasets: [...space.datasets],
        kind: space.evaluate ? 'table' : 'trained',
        metrics: space.metrics(space.datasets[0] as string).map((m) => ({ ...m })),
        decisions: space.decisions().map((d) => ({ name: d.name, choices: d.choices.length })),
      };
    }));
    if (args.json) return printJson(spaces);
    for (const s of spaces) {
      process.stdout.write(`${s.name} (v${s.version}, ${s.kind}): ${s.description}\n  datasets: ${s.datasets.join(', ')}\n`);
      process.stdout.write(renderTable(['metric', 'direction', 'unit', 'description'], s.metrics.map((m) => [m.name, m.direction, m.unit, m.description]))
        .split('\n').map((l) => (l ? '  ' + l : l)).join('\n') + '\n');
    }
    process.stdout.write('A plug-in space is any module that exports a SearchSpace: greennas search --space ./my-space.js\n');
  },
};
