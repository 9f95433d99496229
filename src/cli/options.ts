import { UserError } from '../core/index.js';

/** Default run database, relative to the working directory. */
export const DEFAULT_DB = 'runs/greennas.db';

/** Options every data-reading command shares. */
export const commonOptions = {
  db: { type: 'string', default: DEFAULT_DB, describe: 'Run database: an SQLite file path, or a postgres://user:password@host:port/database URL (shared by many machines)', requiresArg: true },
  json: { type: 'boolean', default: false, describe: 'Print only JSON on stdout' },
  verbose: { type: 'boolean', default: false, describe: 'Debug logging on stderr' },
} as const;

/** Writes a value as JSON on stdout (the only thing --json prints there). */
export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

/** Parses a positive integer flag, or throws a UserError naming the flag. */
export function positiveInt(flag: string, value: unknown): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(n) || n <= 0) {
    throw new UserError(`${flag} must be a positive whole number, got '${String(value)}'. Fix: pass e.g. ${flag} 100.`, { subject: flag });
  }
  return n;
}
