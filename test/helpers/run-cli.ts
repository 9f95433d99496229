import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

/** Root of the repository. */
export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The built CLI (the test command runs tsc before vitest). */
export const cliPath = join(repoRoot, 'dist', 'src', 'cli', 'main.js');

/** Result of one CLI run. */
export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI synchronously with the given arguments. */
export function runCli(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): CliResult {
  const r = spawnSync(process.execPath, [cliPath, ...args], {
    cwd: options.cwd ?? repoRoot, env: { ...process.env, ...options.env }, encoding: 'utf8', timeout: options.timeoutMs ?? 120_000, maxBuffer: 256 * 1024 * 1024,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Starts the built CLI in the background (for kill / interrupt tests). */
export function startCli(args: string[], options: { cwd?: string } = {}) {
  return spawn(process.execPath, [cliPath, ...args], { cwd: options.cwd ?? repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
}
