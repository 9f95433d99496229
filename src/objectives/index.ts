/** Objectives, dominance, fronts and indicators. */
export * from './objective.js';

/** True when loss vector a Pareto-dominates b (no worse everywhere, strictly better somewhere). */
export function dominates(a: readonly number[], b: readonly number[]): boolean {
  let strictly = false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    if (x > y) return false;
    if (x < y) strictly = true;
  }
  return strictly;
}
