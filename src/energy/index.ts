/**
 * Energy meters with provenance (RAPL, NVML, both, estimate, none), hardware profiles and carbon accounting.
 *
 * How a search uses it:
 *   const energy = await resolveEnergySetup(flags);          // validates flags, probes, picks the meter
 *   const ledger = new CarbonLedger(energy.carbon);
 *   const { value, measurement } = await measureEnergy(energy.meter, `trial-${id}/train`, () => train());
 *   store(measurementToMetric(measurement, 'energy.train')); // joules + source/meter/window/devices/flags
 *   ledger.add(measurement);                                 // kWh and gCO2e per trial; ledger.total() per run
 *   await energy.meter.close();
 * Windows may overlap (a run window around trial windows). Workers sharing one package: split a window
 * with attributeByCpuTime(measurement, { worker: threadCpuTime seconds }).
 */
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
