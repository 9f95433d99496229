/** Energy meters with provenance (RAPL, NVML, estimate, none), hardware profiles and carbon accounting. */
export * from './measurement.js';
export * from './energy-meter.js';
export * from './energy-window.js';
export * from './attribution.js';
export * from './rapl-meter.js';
export * from './nvml-library.js';
export * from './nvidia-smi.js';
export * from './nvml-meter.js';
export * from './cpu-time.js';
export * from './estimate-meter.js';
export * from './none-meter.js';
export * from './combined-meter.js';
export * from './select-meter.js';
export * from './hardware-profile.js';
export * from './grid-intensity.js';
export * from './carbon.js';
export * from './energy-setup.js';
