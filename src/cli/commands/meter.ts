import { spawn } from 'node:child_process';
import { constants as osConstants } from 'node:os';
import type { Argv, CommandModule } from 'yargs';
import { UserError } from '../../core/index.js';
import {
  carbonFromJoules,
  childrenCpuTime,
  DEFAULT_POWERCAP_ROOT,
  METER_CHOICES,
  procStatAvailable,
  resolveEnergySetup,
  type CpuTimeSource,
  type EnergyFlags,
  type Measurement,
} from '../../energy/index.js';
import { positiveInt, printJson } from '../options.js';

/** The energy flags, shared with any command that meters work (e.g. the search). */
export const energyOptions = {
  meter: { type: 'string', default: 'auto', describe: `Energy meter: ${METER_CHOICES.join(', ')} (auto picks the best available)`, requiresArg: true },
  'powercap-root': { type: 'string', default: DEFAULT_POWERCAP_ROOT, describe: 'Folder holding the RAPL powercap zones', requiresArg: true },
  profile: { type: 'string', describe: 'Hardware profile id for estimates (default: detected, else generic; see greennas profiles)', requiresArg: true },
  'profiles-dir': { type: 'string', describe: 'Folder of hardware profile JSON files (default: the shipped hardware-profiles/)', requiresArg: true },
  region: { type: 'string', describe: "Grid region for carbon intensity, e.g. FR, DE, WORLD (default: the profile's, else WORLD)", requiresArg: true },
  'carbon-intensity': { type: 'number', describe: 'Grid carbon intensity in g CO2e per kWh (overrides --region)', requiresArg: true },
  pue: { type: 'number', describe: 'Data-centre power usage effectiveness, >= 1 (default 1.0: device energy only)', requiresArg: true },
  'sample-interval-ms': { type: 'number', describe: 'Background sampling/polling period of the meter in milliseconds', requiresArg: true },
} as const;

/** Parsed values of energyOptions. */
export interface EnergyArgs {
  meter: string;
  'powercap-root': string;
  profile?: string;
  'profiles-dir'?: string;
  region?: string;
  'carbon-intensity'?: number;
  pue?: number;
  'sample-interval-ms'?: number;
}

/** Maps parsed energy flags to EnergyFlags for resolveEnergySetup. */
export function energyFlagsFrom(argv: EnergyArgs): EnergyFlags {
  return {
    meter: argv.meter,
    powercapRoot: argv['powercap-root'],
    profile: argv.profile,
    profilesDir: argv['profiles-dir'],
    region: argv.region,
    carbonIntensityGPerKwh: argv['carbon-intensity'],
    pue: argv.pue,
    sampleIntervalMs: argv['sample-interval-ms'] === undefined ? undefined : positiveInt('--sample-interval-ms', argv['sample-interval-ms']),
  };
}

interface MeterArgs extends EnergyArgs {
  command?: (string | number)[];
  '--'?: (string | number)[];
  json: boolean;
}

/** Exit status a shell reports for a process killed by `signal` (128 + signal number). */
function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + ((osConstants.signals as Record<string, number>)[signal] ?? 0);
}

/** Runs the child with the terminal's stdin; its stdout goes to our stderr under --json so stdout stays JSON. */
function runChild(file: string, args: string[], json: boolean): Promise<{ exitCode: number; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['inherit', json ? 2 : 'inherit', 'inherit'] });
    // Ctrl-C reaches the whole process group, so the child gets it anyway; a SIGTERM sent to us alone is
    // passed on. Either way we stay alive to report what the command used (as time(1) does).
    const ignore = () => {};
    const forward = () => { child.kill('SIGTERM'); };
    process.on('SIGINT', ignore);
    process.on('SIGTERM', forward);
    const done = () => {
      process.off('SIGINT', ignore);
      process.off('SIGTERM', forward);
    };
    child.once('error', (err: NodeJS.ErrnoException) => {
      done();
      reject(err.code === 'ENOENT'
        ? new UserError(`command '${file}' was not found. Fix: check its spelling or give its full path after --, e.g. greennas meter -- /usr/bin/env ${file}.`, { subject: 'COMMAND' })
        : err.code === 'EACCES'
          ? new UserError(`command '${file}' is not executable. Fix: chmod +x it or run it through its interpreter.`, { subject: 'COMMAND' })
          : err);
    });
    // 'exit' fires after libuv has reaped the child, so its CPU time is already in our cutime/cstime.
    child.once('exit', (code, signal) => {
      done();
      resolve({ exitCode: code ?? (signal ? signalExitCode(signal) : 1), signal });
    });
  });
}

function fmtJ(j: number): string {
  return Math.abs(j) >= 1000 ? `${(j / 1000).toFixed(3)} kJ` : `${j.toFixed(3)} J`;
}

/** `greennas meter -- COMMAND ARGS...`: runs a command inside one energy window and reports it. */
export const meterCommand: CommandModule<object, MeterArgs> = {
  command: 'meter [command..]',
  describe: 'Run a command and report its duration, energy and carbon, with where each figure came from',
  builder: (y: Argv<object>) =>
    y
      .parserConfiguration({ 'populate--': true, 'parse-positional-numbers': false })
      .positional('command', { type: 'string', array: true, describe: 'The command to measure and its arguments, after --' })
      .options({
        json: { type: 'boolean', default: false, describe: "Print one JSON object on stdout (the command's stdout goes to stderr)" },
        ...energyOptions,
      })
      .example('$0 meter -- sleep 1', 'Measure a command')
      .example('$0 meter --json --meter rapl --region FR -- python3 train.py', 'Force RAPL, French grid, JSON out') as unknown as Argv<MeterArgs>,
  handler: async (argv) => {
    // Words after `--` arrive unparsed (populate--, no number parsing) so `sleep 1.50` stays `1.50`.
    const words = [...(argv.command ?? []), ...(argv['--'] ?? [])].map(String);
    const [file, ...args] = words;
    if (!file) throw new UserError('no command to measure. Fix: put it after --, e.g. greennas meter -- sleep 1.', { subject: 'COMMAND' });
    // Child CPU time: what the kernel adds to our cutime/cstime when the command is reaped (Linux).
    const cpuTime: CpuTimeSource = procStatAvailable()
      ? childrenCpuTime()
      : { name: 'children', cpuSeconds: () => { throw new Error('child CPU time needs /proc/self/stat (Linux)'); } };
    // Every flag is validated here, before the command runs.
    const { meter, probes, profile, profileChosenBy: chosenBy, carbon } = await resolveEnergySetup({ ...energyFlagsFrom(argv), cpuTime });
    for (const p of probes) {
      process.stderr.write(p.available ? `greennas: meter ${p.meter}: ${p.reason}\n` : `greennas: meter ${p.meter} not available: ${p.reason}\n`);
    }
    let measurement: Measurement;
    let result: { exitCode: number; signal: NodeJS.Signals | null };
    try {
      await meter.begin('command');
      try {
        result = await runChild(file, args, argv.json);
      } finally {
        measurement = await meter.end('command');
      }
    } finally {
      await meter.close();
    }
    const carbonFigure = measurement.energyJ ? carbonFromJoules(measurement.energyJ.total, carbon) : null;
    const report = {
      command: words,
      exitCode: result.exitCode,
      ...(result.signal ? { signal: result.signal } : {}),
      durationS: measurement.durationS,
      energyJ: measurement.energyJ,
      source: measurement.source,
      meter: measurement.meter,
      devices: measurement.devices,
      flags: measurement.flags,
      attribution: measurement.attribution,
      profile: { id: profile.id, name: profile.name, chosenBy },
      energyKwh: carbonFigure?.energyKwh ?? null,
      carbon: {
        carbonG: carbonFigure?.carbonG ?? null,
        facilityEnergyKwh: carbonFigure?.facilityEnergyKwh ?? null,
        intensityGPerKwh: carbon.intensityGPerKwh,
        region: carbon.region,
        intensitySource: carbon.intensitySource,
        intensityYear: carbon.intensityYear,
        pue: carbon.pue,
        pueSource: carbon.pueSource,
      },
      probes,
      startedAt: measurement.startedAt,
      detail: measurement.detail,
    };
    if (argv.json) printJson(report);
    else {
      const lines = [
        `command   ${words.join(' ')} (exit ${result.exitCode}${result.signal ? `, ${result.signal}` : ''})`,
        `duration  ${measurement.durationS.toFixed(3)} s`,
        measurement.energyJ
          ? `energy    ${fmtJ(measurement.energyJ.total)} ${measurement.source.toUpperCase()} by meter ${measurement.meter}` +
            (measurement.source === 'estimated' ? ` (profile ${profile.id}, ${chosenBy}; not a measurement)` : '') +
            ` — ${Object.entries(measurement.energyJ.byDomain).map(([d, j]) => `${d} ${fmtJ(j)}`).join(', ')}`
          : 'energy    not measured (meter none)',
        `devices   ${measurement.devices.map((d) => d.name).join(', ') || '-'}`,
        carbonFigure
          ? `carbon    ${carbonFigure.carbonG.toPrecision(3)} g CO2e (${carbonFigure.energyKwh.toPrecision(3)} kWh × PUE ${carbon.pue} × ${carbon.intensityGPerKwh} g/kWh, ${carbon.region ?? 'given'}${carbon.intensityYear ? ` ${carbon.intensityYear}` : ''}; ${carbon.intensitySource})`
          : 'carbon    not computed (no energy figure)',
        ...(measurement.flags.length ? [`flags     ${measurement.flags.join(', ')} (not a clean reading)`] : []),
      ];
      process.stdout.write(lines.join('\n') + '\n');
    }
    // The metered command's own status is greennas's exit status (main() keeps a handler's exitCode).
    process.exitCode = result.exitCode;
  },
};
