/**
 * Serialisable tfjs layers for search spaces (self-attention, position embedding, class token).
 * A separate entry point from `space/index.ts` because it loads tfjs, which the contract and the
 * tabular spaces do not need.
 */
export * from './transformer-layers.js';
