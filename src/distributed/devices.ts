import { cpus } from 'node:os';
import { queryNvidiaSmi } from '../energy/index.js';

/** The devices this machine evaluates on, for the workers table and each measured metric: CPU model and cores, and every GPU nvidia-smi lists. */
export async function describeDevices(): Promise<string[]> {
  const cpu = cpus();
  const devices = [`cpu: ${cpu[0]?.model.trim() ?? 'unknown'} x${cpu.length}`];
  try {
    for (const g of await queryNvidiaSmi()) devices.push(`gpu${g.index}: ${g.name} (${g.uuid})`);
  } catch {
    // no NVIDIA driver on this machine: CPU only
  }
  return devices;
}
