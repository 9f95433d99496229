import { execFile } from 'node:child_process';
import type { GpuInfo } from './nvml-library.js';

/** Runs a program and resolves to its stdout; injectable so tests can replay recorded answers. */
export type CommandRunner = (file: string, args: readonly string[]) => Promise<string>;

/** Runs the real program (5 s limit, so a hung driver cannot stall a trial). */
export const execCommandRunner: CommandRunner = (file, args) =>
  new Promise((resolve, reject) => {
    execFile(file, [...args], { timeout: 5000, maxBuffer: 1 << 20 }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
  });

/** The query greennas sends: one CSV line per GPU, no header, no units. */
export const NVIDIA_SMI_QUERY_ARGS = ['--query-gpu=index,uuid,name,power.draw', '--format=csv,noheader,nounits'] as const;

/** One GPU line from nvidia-smi: identity and power draw in watts (null when `[N/A]` / `[Not Supported]`). */
export interface SmiGpuReading extends GpuInfo {
  /** Board power draw in watts, or null when the driver does not report it. */
  powerW: number | null;
}

/**
 * Parses `nvidia-smi --query-gpu=index,uuid,name,power.draw --format=csv,noheader,nounits`.
 * Names may contain commas only in theory (NVIDIA product names do not); the UUID and index are
 * taken from the left and power from the right so a comma in a name would still parse.
 */
export function parseNvidiaSmiCsv(text: string): SmiGpuReading[] {
  const out: SmiGpuReading[] = [];
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (!line) continue;
    const parts = line.split(',').map((p) => p.trim());
    if (parts.length < 4) throw new Error(`unexpected nvidia-smi line '${line}' (want index, uuid, name, power.draw)`);
    const index = Number(parts[0]);
    const uuid = parts[1] ?? '';
    const powerText = parts[parts.length - 1] ?? '';
    const name = parts.slice(2, -1).join(', ');
    if (!Number.isInteger(index) || index < 0) throw new Error(`unexpected GPU index '${parts[0]}' in nvidia-smi line '${line}'`);
    if (!uuid.startsWith('GPU-')) throw new Error(`unexpected GPU UUID '${uuid}' in nvidia-smi line '${line}'`);
    const powerW = /^\d+(\.\d+)?$/.test(powerText) ? Number(powerText) : null;
    out.push({ index, uuid, name, powerW });
  }
  return out;
}

/** Queries nvidia-smi once; rejects when the program is missing or fails. */
export async function queryNvidiaSmi(run: CommandRunner = execCommandRunner): Promise<SmiGpuReading[]> {
  return parseNvidiaSmiCsv(await run('nvidia-smi', NVIDIA_SMI_QUERY_ARGS));
}
