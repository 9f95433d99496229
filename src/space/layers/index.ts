/**
 * Serialisable tfjs layers for search spaces (fused normalisation, ReLU6, self-attention, position
 * embedding, class token). A separate entry point from `space/index.ts` because it loads tfjs, which
 * the contract and the tabular spaces do not need.
 */
export * from './fused-layers.js';
export * from './transformer-layers.js';
