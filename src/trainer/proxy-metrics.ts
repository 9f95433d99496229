import type { MetricSpec } from '../core/index.js';

/** Metrics a proxy trial reports, every one with a unit and a source. */
export function proxyMetricSpecs(latencyBatch: number): MetricSpec[] {
  return [
    { name: 'accuracy', direction: 'maximize', unit: 'fraction', description: 'test-split accuracy after proxy training (reported, not searched on by default)' },
    { name: 'accuracy.val', direction: 'maximize', unit: 'fraction', description: 'validation-split accuracy after proxy training (the search signal)' },
    { name: 'latency.cpu', direction: 'minimize', unit: 'ms', description: 'median inference time at batch 1 on the training backend, after warm-up' },
    { name: `latency.cpu.b${latencyBatch}`, direction: 'minimize', unit: 'ms', description: `median inference time of a batch of ${latencyBatch}, after warm-up` },
    { name: 'energy.train', direction: 'minimize', unit: 'J', description: 'energy of the proxy training window (source says measured or estimated)' },
    { name: 'energy.infer', direction: 'minimize', unit: 'J', description: 'energy per inference at batch 1 (source says measured or estimated)' },
    { name: 'params', direction: 'minimize', unit: 'count', description: 'trainable parameters (exact, from the space)' },
    { name: 'macs', direction: 'minimize', unit: 'count', description: 'multiply-adds per sample (exact, from the space)' },
    { name: 'train.seconds', direction: 'minimize', unit: 's', description: 'wall time of the proxy training' },
  ];
}
