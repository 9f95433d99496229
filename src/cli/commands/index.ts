import type { CommandModule } from 'yargs';
import { meterCommand } from './meter.js';
import { profilesCommand } from './profiles.js';

/** Every CLI command, one file each; main.ts registers this list. Add a command by adding a line. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const commands: CommandModule<any, any>[] = [
  meterCommand,
  profilesCommand,
];
