import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  EstimateMeter,
  childrenCpuTime,
  loadHardwareProfiles,
  parseProcStat,
  processCpuTime,
  type CpuTimeSource,
} from '../../src/energy/index.js';

const profiles = loadHardwareProfiles();
const byId = (id: string) => profiles.find((p) => p.id === id)!;

function fakeCpu(values: number[]): CpuTimeSource {
  let i = 0;
  return { name: 'fake', cpuSeconds: () => values[Math.min(i++, values.length - 1)]! };
}
function fakeClock(values: number[]): () => number {
  let i = 0;
  return () => values[Math.min(i++, values.length - 1)]!;
}

describe('EstimateMeter', () => {
  it('computes idleW × window + (maxW − idleW) × CPU s / logical CPUs, labelled estimated', async () => {
    // Raspberry Pi 4: idle 2.7 W, max 6.4 W, 4 logical CPUs; 10 s window with 20 CPU-seconds (half load).
    const meter = new EstimateMeter({ profile: byId('raspberry-pi-4'), cpuTime: fakeCpu([0, 5, 25]) /* first read is the probe's */, now: fakeClock([1000, 11000]) });
    await meter.begin('t');
    const m = await meter.end('t');
    expect(m.source).toBe('estimated');
    expect(m.meter).toBe('estimate');
    expect(m.durationS).toBe(10);
    expect(m.energyJ?.byDomain.idle).toBeCloseTo(27, 12);
    expect(m.energyJ?.byDomain.active).toBeCloseTo(18.5, 12); // 3.7 W × 20 s / 4
    expect(m.energyJ?.total).toBeCloseTo(45.5, 12);
    expect(m.attribution).toMatchObject({ method: 'process-cpu-time', detail: { cpuS: 20, logicalCpus: 4, utilisation: 0.5 } });
    expect(m.devices).toEqual([{ id: 'raspberry-pi-4', name: byId('raspberry-pi-4').name, kind: 'profile' }]);
  });

  it('caps CPU time at window × CPUs (tick rounding cannot push utilisation past 1)', async () => {
    const meter = new EstimateMeter({ profile: byId('amd-epyc-vm-2vcpu'), cpuTime: fakeCpu([0, 0, 3]), now: fakeClock([0, 1000]) });
    await meter.begin('t');
    const m = await meter.end('t');
    expect(m.energyJ?.total).toBeCloseTo(4.375, 12); // max watts for 1 s
  });

  it('is unavailable with a GPU profile, and says what to do', async () => {
    const probe = await new EstimateMeter({ profile: byId('nvidia-h100-sxm5') }).probe();
    expect(probe.available).toBe(false);
    expect(probe.reason).toMatch(/describes a gpu/);
    expect(probe.fix).toMatch(/--profile/);
    await expect(new EstimateMeter({ profile: byId('nvidia-h100-sxm5') }).begin('x')).rejects.toThrow(/--meter estimate is not available/);
  });

  it('keeps overlapping windows apart', async () => {
    const meter = new EstimateMeter({ profile: byId('laptop-x86-cpu'), cpuTime: fakeCpu([0, 0, 1, 3, 4]), now: fakeClock([0, 1000, 3000, 4000]) });
    await meter.begin('run');
    await meter.begin('trial');
    const trial = await meter.end('trial');
    const run = await meter.end('run');
    expect(trial.durationS).toBe(2);
    expect(trial.attribution.detail).toMatchObject({ cpuS: 2 });
    expect(run.durationS).toBe(4);
    expect(run.attribution.detail).toMatchObject({ cpuS: 4 });
  });
});

describe('CPU time sources', () => {
  it('parses /proc/<pid>/stat even when the command name holds spaces and parentheses', () => {
    const line = '4242 (my (weird) cmd) S 1 4242 4242 0 -1 4194560 100 0 0 0 151 37 12 9 20 0 1 0 100 1000 10 18446744073709551615';
    expect(parseProcStat(line)).toEqual({ utime: 151, stime: 37, cutime: 12, cstime: 9 });
  });

  it('processCpuTime grows while this process computes', () => {
    const before = processCpuTime.cpuSeconds();
    let x = 0;
    // Spin until 50 ms of CPU time show up (or give up after 5 s of wall time on a starved box).
    const until = Date.now() + 5000;
    while (Date.now() < until && processCpuTime.cpuSeconds() - before < 0.05) x += Math.sqrt(x + 1);
    expect(x).toBeGreaterThan(0);
    expect(processCpuTime.cpuSeconds() - before).toBeGreaterThanOrEqual(0.05);
  });

  it("childrenCpuTime sees a reaped child's CPU time (the wait4 rusage Node does not expose)", async () => {
    const children = childrenCpuTime();
    const before = children.cpuSeconds();
    await new Promise<void>((resolve, reject) => {
      const child = spawn(process.execPath, ['-e', 'const t=Date.now()+400; let x=0; while(Date.now()<t) x+=Math.sqrt(x+1);'], { stdio: 'ignore' });
      child.once('error', reject);
      child.once('exit', () => resolve());
    });
    const used = children.cpuSeconds() - before;
    // A 0.4 s busy loop plus node start-up; the box is shared, so only a loose lower bound is safe.
    expect(used).toBeGreaterThan(0.2);
    expect(used).toBeLessThan(5);
  });
});

describe('threadCpuTime (per-worker attribution input)', () => {
  it("counts a worker thread's own CPU time, not the rest of the process", async () => {
    const { Worker } = await import('node:worker_threads');
    const { threadCpuTime } = await import('../../src/energy/index.js');
    const mainBefore = threadCpuTime.cpuSeconds();
    const processBefore = processCpuTime.cpuSeconds();
    // The worker spins ~0.4 s of CPU and reports threadCpuTime as the built module computes it there.
    const built = new URL('../../dist/src/energy/cpu-time.js', import.meta.url).href;
    const code = `
      const { parentPort } = require('node:worker_threads');
      import(${JSON.stringify(built)}).then(({ threadCpuTime }) => {
        const before = threadCpuTime.cpuSeconds(); const t = Date.now() + 400; let x = 0; while (Date.now() < t) x += Math.sqrt(x + 1);
        parentPort.postMessage(threadCpuTime.cpuSeconds() - before);
      });`;
    const workerCpuS = await new Promise<number>((resolve, reject) => {
      const w = new Worker(code, { eval: true });
      w.once('message', (v: number) => { resolve(v); void w.terminate(); });
      w.once('error', reject);
    });
    const mainUsed = threadCpuTime.cpuSeconds() - mainBefore;
    const processUsed = processCpuTime.cpuSeconds() - processBefore;
    expect(workerCpuS).toBeGreaterThan(0.1);
    expect(processUsed).toBeGreaterThanOrEqual(workerCpuS - 0.02);
    // The main thread only waited; its own figure must not include the worker's spin.
    expect(mainUsed).toBeLessThan(workerCpuS);
  });
});
