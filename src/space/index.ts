/**
 * The SearchSpace contract, what evaluates architectures, architecture helpers, exact
 * parameter/multiply-add counting and the plug-in loader. Loads no tfjs; tfjs layers for spaces are
 * in `./layers/index.js`.
 */
export * from './search-space.js';
export * from './evaluator.js';
export * from './table-evaluator.js';
export * from './arch-utils.js';
export * from './cost.js';
export * from './model-cost.js';
export * from './plugin-loader.js';
