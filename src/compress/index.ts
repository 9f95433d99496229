/** Compression of trained models (model → model): channel, gate and magnitude pruning, float16 rounding, distillation, fine-tuning and re-measurement. */
export * from './channel-pruning.js';
export * from './gate-removal.js';
export * from './magnitude-pruning.js';
export * from './float16.js';
export * from './distillation.js';
export * from './fine-tune.js';
export * from './measure.js';
export * from './model-bytes.js';
export * from './model-rebuild.js';
export * from './plan.js';
export * from './pipeline.js';
export * from './batch-norm-folding.js';
