#!/usr/bin/env node
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { fileURLToPath } from 'node:url';
import { realpathSync } from 'node:fs';
import { UserError, VERSION } from '../core/index.js';
import { commands } from './commands/index.js';

/** Exit code for errors the user must fix (bad flag, missing file). */
export const EXIT_USER_ERROR = 2;

/** Prints an error the way the CLI promises: user errors in one line without a stack, bugs with it. */
export function reportError(err: unknown): number {
  if (err instanceof UserError) {
    process.stderr.write(`greennas: error: ${err.message}\n`);
    return EXIT_USER_ERROR;
  }
  const e = err instanceof Error ? err : new Error(String(err));
  process.stderr.write(`greennas: internal error (a bug; please report it with this trace):\n${e.stack ?? e.message}\n`);
  return 1;
}

/** Parses argv and runs one command; resolves to the process exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  let failure: unknown;
  const parser = yargs([...argv])
    .scriptName('greennas')
    // A flag given twice takes its last value, as in most CLIs, instead of becoming an array.
    .parserConfiguration({ 'duplicate-arguments-array': false })
    .version(VERSION)
    .usage('$0 <command> [options]\n\nEnergy-aware neural architecture search.')
    .command(commands)
    .demandCommand(1, 'Name a command: greennas <command> (see greennas --help).')
    .strict()
    .recommendCommands()
    .wrap(Math.min(110, process.stderr.columns ?? 100))
    .exitProcess(false)
    .fail((msg, err) => {
      // yargs calls this for its own validation (msg) and for errors thrown by handlers (err).
      // yargs reports its own parse errors (a flag without its value, an unknown flag) as YError: user errors.
      const own = !err || err.name === 'YError';
      failure = own ? new UserError(/--help/.test(msg ?? '') ? msg : `${msg ?? err?.message} (see greennas --help)`) : err;
      throw failure;
    });
  try {
    await parser.parseAsync();
  } catch (err) {
    return reportError(failure ?? err);
  }
  // A handler may set its own status (e.g. `meter` passes on the metered command's).
  return typeof process.exitCode === 'number' ? process.exitCode : 0;
}

function isEntryPoint(): boolean {
  try {
    return realpathSync(process.argv[1] ?? '') === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  // A reader that stops early (`| head`) is not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
  main(hideBin(process.argv)).then(
    (code) => { process.exitCode = code; },
    (err) => { process.exitCode = reportError(err); },
  );
}
