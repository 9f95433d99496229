/** Where progress and diagnostics go; always stderr in the CLI, never stdout (stdout carries data). */
export interface Logger {
  /** Routine progress. */
  info(message: string): void;
  /** Something the user should notice but that does not stop the run. */
  warn(message: string): void;
  /** Detail for debugging; shown with --verbose. */
  debug(message: string): void;
}

/** A Logger that writes to stderr; debug lines only when `verbose`. */
export function createStderrLogger(options: { verbose?: boolean; quiet?: boolean } = {}): Logger {
  const write = (line: string) => process.stderr.write(line + '\n');
  return {
    info: (m) => { if (!options.quiet) write(m); },
    warn: (m) => write(`warning: ${m}`),
    debug: (m) => { if (options.verbose) write(`debug: ${m}`); },
  };
}

/** A Logger that discards everything (tests, library use). */
export const silentLogger: Logger = { info: () => {}, warn: () => {}, debug: () => {} };
