import type { CommandModule } from 'yargs';
import { baselinesCommand } from './baselines.js';
import { compareCommand } from './compare.js';
import { compressCommand } from './compress.js';
import { exportCommand } from './export.js';
import { frontCommand } from './front.js';
import { meterCommand } from './meter.js';
import { profilesCommand } from './profiles.js';
import { reportCommand } from './report.js';
import { runsCommand } from './runs.js';
import { searchCommand } from './search.js';
import { spacesCommand } from './spaces.js';
import { trainCommand } from './train.js';
import { trialsCommand } from './trials.js';
import { workerCommand } from './worker.js';
import { workersCommand } from './workers.js';

/** Every CLI command, one file each; main.ts registers this list. Add a command by adding a line. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const commands: CommandModule<any, any>[] = [
  searchCommand,
  runsCommand,
  trialsCommand,
  frontCommand,
  spacesCommand,
  meterCommand,
  profilesCommand,
  workerCommand,
  workersCommand,
  trainCommand,
  compressCommand,
  baselinesCommand,
  compareCommand,
  reportCommand,
  exportCommand,
];
