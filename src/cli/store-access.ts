import { UserError } from '../core/index.js';
import { openRunStore, type OpenedRunStore, type RunRecord, type RunStore } from '../store/index.js';

/** Opens the store named by --db (an SQLite file or a postgres:// URL) for reading an existing run database. */
export async function openExistingStore(db: string): Promise<OpenedRunStore> {
  return openRunStore(db, { mode: 'existing', flag: '--db' });
}

/** Parses a RUN_ID argument. */
export function parseRunId(value: unknown, what = 'RUN_ID'): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(n) || n <= 0) {
    throw new UserError(`${what} must be a run id (a positive whole number), got '${String(value)}'. Fix: see 'greennas runs' for the ids.`, { subject: what });
  }
  return n;
}

/** A run that must exist, or a UserError naming the id and how to list runs. */
export async function requireRun(store: RunStore, runId: number, db: string, what = 'RUN_ID'): Promise<RunRecord> {
  const run = await store.getRun(runId);
  if (!run) {
    throw new UserError(`${what} ${runId}: no such run in ${db}. Fix: list the runs with 'greennas runs --db ${db}'.`, { subject: what });
  }
  return run;
}

/** Runs `fn` with a store and always closes it. */
export async function withStore<T, S extends RunStore>(store: S, fn: (s: S) => Promise<T>): Promise<T> {
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}
