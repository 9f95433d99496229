/** Errors, seeded randomness and logging shared by every module; imports nothing of greennas. */
export * from './errors.js';
export * from './rng.js';
export * from './logger.js';
export * from './metric.js';
export { VERSION } from './version.js';
export type { ModelArtifact } from './model-artifact.js';
