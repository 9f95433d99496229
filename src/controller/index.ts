/** The search loop (ask / evaluate / tell with resume) and the strategy contract. */
export * from './strategy.js';
export * from './study.js';
