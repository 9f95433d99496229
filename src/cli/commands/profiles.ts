import type { Argv, CommandModule } from 'yargs';
import {
  defaultProfilesDir,
  detectProfiles,
  loadHardwareProfiles,
  queryNvidiaSmi,
  readMachineFacts,
  resolveHardwareProfile,
  type HardwareProfile,
} from '../../energy/index.js';
import { printJson } from '../options.js';

interface ProfilesArgs {
  json: boolean;
  'profiles-dir'?: string;
}

function fmtW(p: HardwareProfile, key: 'idleW' | 'maxW'): string {
  const f = p[key];
  return `${f.value}${f.basis === 'assumption' ? '*' : ''}`;
}

/** `greennas profiles`: lists the hardware profiles, validates them, and marks the one this machine would use. */
export const profilesCommand: CommandModule<object, ProfilesArgs> = {
  command: 'profiles',
  describe: 'List hardware profiles (idle/max watts, peak FLOP/s, sources) and which one this machine uses',
  builder: (y: Argv<object>) =>
    y.options({
      json: { type: 'boolean', default: false, describe: 'Print only JSON on stdout' },
      'profiles-dir': { type: 'string', describe: 'Folder of hardware profile JSON files (default: the shipped hardware-profiles/)', requiresArg: true },
    }) as unknown as Argv<ProfilesArgs>,
  handler: async (argv) => {
    const dir = argv['profiles-dir'] ?? defaultProfilesDir();
    const profiles = loadHardwareProfiles(dir);
    // GPU names only sharpen detection; a machine without nvidia-smi simply has none.
    const gpuNames = await queryNvidiaSmi().then((rows) => rows.map((r) => r.name), () => []);
    const facts = readMachineFacts(gpuNames);
    const detected = detectProfiles(profiles, facts);
    const { profile: chosen, chosenBy } = resolveHardwareProfile(profiles, undefined, facts);
    if (argv.json) {
      printJson({
        dir,
        machine: facts,
        default: { id: chosen.id, chosenBy },
        detected: { cpu: detected.cpu?.id ?? null, gpus: detected.gpus.map((g) => g.id) },
        profiles,
      });
      return;
    }
    const rows = profiles.map((p) => [
      (p.id === chosen.id ? '> ' : detected.gpus.includes(p) ? '+ ' : '  ') + p.id,
      p.kind,
      fmtW(p, 'idleW'),
      fmtW(p, 'maxW'),
      p.logicalCpus ? String(p.logicalCpus.value) : '-',
      p.peakFlops ? `${(p.peakFlops.value / 1e12).toPrecision(3)} ${p.peakFlopsPrecision ?? ''}` : '-',
      p.preferredMeters.join(','),
      p.name,
    ]);
    const header = ['  id', 'kind', 'idle W', 'max W', 'CPUs', 'TFLOP/s', 'meters', 'name'];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
    const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ');
    process.stdout.write([line(header), ...rows.map(line)].join('\n') + '\n');
    process.stdout.write(`\n> default here (${chosenBy}${facts.cpuModel ? `: ${facts.cpuModel}, ${facts.logicalCpus} logical CPUs` : ''})` +
      `${detected.gpus.length ? '; + detected GPU' : ''}; * figure is an assumption, not a datasheet or measurement (see the JSON 'source' of each figure).\n`);
  },
};
