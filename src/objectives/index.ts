/** Objectives, dominance, fronts and indicators. */
export * from './objective.js';
export * from './pareto.js';
export * from './hypervolume.js';
export * from './mnas-reward.js';
export * from './objective-builder.js';
export * from './normalize.js';
