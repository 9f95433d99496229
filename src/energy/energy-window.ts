import type { EnergyMeter } from './energy-meter.js';
import type { Measurement } from './measurement.js';

/** An open measurement window; close() ends it once and returns its Measurement. */
export interface EnergyWindow {
  /** The window's label. */
  readonly label: string;
  /** Ends the window (idempotent: a second call returns the same Measurement). */
  close(): Promise<Measurement>;
}

/** Opens a window on `meter` (e.g. around one trial's training) and returns a handle to close it. */
export async function openEnergyWindow(meter: EnergyMeter, label: string): Promise<EnergyWindow> {
  await meter.begin(label);
  let closing: Promise<Measurement> | undefined;
  return {
    label,
    close: () => (closing ??= meter.end(label)),
  };
}

/** A thrown error with the energy its window used before it failed (failed trials still cost energy). */
export interface ErrorWithEnergy extends Error {
  /** The measurement of the failed window. */
  energyMeasurement?: Measurement;
}

/**
 * Runs `work` inside a window and returns its value with the measurement. If `work` throws, the window
 * is still closed and its measurement attached to the error as `energyMeasurement`, then rethrown.
 */
export async function measureEnergy<T>(meter: EnergyMeter, label: string, work: () => Promise<T> | T): Promise<{ value: T; measurement: Measurement }> {
  const window = await openEnergyWindow(meter, label);
  let value: T;
  try {
    value = await work();
  } catch (err) {
    const measurement = await window.close();
    if (err instanceof Error) (err as ErrorWithEnergy).energyMeasurement = measurement;
    throw err;
  }
  return { value, measurement: await window.close() };
}
