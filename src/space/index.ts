/** The SearchSpace contract and what evaluates its architectures. */
export * from './search-space.js';
export * from './evaluator.js';
export * from './table-evaluator.js';
