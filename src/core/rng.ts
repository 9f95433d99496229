import seedrandom from 'seedrandom';

/** A seeded pseudo-random source; every stochastic choice in a search goes through one. */
export interface Rng {
  /** Uniform float in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** One element of a non-empty array, uniformly. */
  pick<T>(items: readonly T[]): T;
  /** Standard normal deviate. */
  normal(): number;
  /** A fresh, independent generator derived from this one and a label. */
  fork(label: string): Rng;
}

/** Creates an Rng from a seed (number or string) with seedrandom's Alea generator. */
export function createRng(seed: number | string): Rng {
  const prng = seedrandom.alea(String(seed));
  const rng: Rng = {
    next: () => prng(),
    int: (n: number) => {
      if (!Number.isInteger(n) || n <= 0) throw new RangeError(`Rng.int needs a positive integer, got ${n}`);
      return Math.floor(prng() * n);
    },
    pick: <T>(items: readonly T[]): T => {
      if (items.length === 0) throw new RangeError('Rng.pick of an empty array');
      return items[Math.floor(prng() * items.length)] as T;
    },
    normal: () => {
      let u = 0;
      while (u === 0) u = prng();
      const v = prng();
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    },
    fork: (label: string) => createRng(`${seed}/${label}`),
  };
  return rng;
}

/** Fisher–Yates shuffle in place (an array or a typed array) with the given Rng; returns it. */
export function shuffleInPlace<A extends { length: number; [index: number]: unknown }>(items: A, rng: Rng): A {
  for (let i = items.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = items[i];
    items[i] = items[j];
    items[j] = t;
  }
  return items;
}
