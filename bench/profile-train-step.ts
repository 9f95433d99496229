/**
 * Where a training step's time goes: per-kernel time (tf.profile) of one step of reference model
 * A or B at batch 64, then the steady-state rate and the tensor count. Run by hand:
 * `node dist/bench/profile-train-step.js A|B|ARCH.json [wasm|cpu] [steps]` (a JSON file is a mobilenet-space
 * architecture, built for Fashion-MNIST). Output on stderr.
 */
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { type BackendName, initBackend } from '../src/trainer/backend.js';
import { buildModelA, buildModelB, countTrainableParams } from '../src/trainer/reference-models.js';
import { FusedAdamOptimizer } from '../src/trainer/fused-adam.js';
import { createTrainStep } from '../src/trainer/train-step.js';
import { buildMobilenet, type MobilenetArch } from '../search-spaces/mobilenet/index.js';

const which = process.argv[2] === 'B' ? 'B' : process.argv[2]?.endsWith('.json') ? 'M' : 'A';
const backend = (process.argv[3] ?? 'wasm') as BackendName;
const steps = Number(process.argv[4] ?? 5);
const log = (m: string) => process.stderr.write(m + '\n');
const info = await initBackend(backend);
log(info.reason);
const model = which === 'M'
  ? buildMobilenet(JSON.parse(readFileSync(process.argv[2] as string, 'utf8')) as MobilenetArch, { dataset: 'fashion-mnist', kind: 'image', inputShape: [28, 28, 1], numClasses: 10 }, { seed: 1 })
  : which === 'A' ? buildModelA() : buildModelB();
log(`model ${which}: ${countTrainableParams(model)} trainable parameters`);
const opt = which === 'A' ? tf.train.sgd(0.05) : new FusedAdamOptimizer(1e-3);
const step = createTrainStep(model, opt, which === 'B' ? 2 : 10);
const x = which !== 'B' ? tf.randomUniform([64, 28, 28, 1]) : tf.randomUniform([64, 64], 0, 5000, 'int32');
const y = tf.randomUniform([64], 0, which === 'B' ? 2 : 10, 'int32') as tf.Tensor1D;
step(x, y);
const n0 = tf.memory().numTensors;
const t0 = performance.now();
for (let i = 0; i < steps; i++) step(x, y, { readLoss: i === steps - 1 });
const dt = (performance.now() - t0) / 1000;
// Profile after the timed steps, so the JS kernels are compiled as they are in a long run.
const profiled = 5;
const p = await tf.profile(() => { for (let i = 0; i < profiled; i++) step(x, y); });
const agg = new Map<string, { ms: number; n: number }>();
for (const k of p.kernels) {
  const e = agg.get(k.name) ?? { ms: 0, n: 0 };
  e.ms += (k.kernelTimeMs as number) / profiled;
  e.n += 1 / profiled;
  agg.set(k.name, e);
}
const total = [...agg.values()].reduce((s, e) => s + e.ms, 0);
log(`kernel                                      ms   calls  (mean of ${profiled} steps after the timed ones: ${p.kernels.length / profiled} kernel calls, ${total.toFixed(0)} ms in kernels)`);
for (const [n, e] of [...agg.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, 20)) {
  log(`${n.padEnd(40)} ${e.ms.toFixed(1).padStart(8)} ${String(Math.round(e.n)).padStart(6)}`);
}
log(`model ${which} on ${backend}: ${(steps * 64 / dt).toFixed(1)} samples/s over ${steps} steps; tensors ${n0} -> ${tf.memory().numTensors}`);
