import { mulberry32 } from '../src/util/random.js';

/** A small seeded PRNG (mulberry32) so that scenario choices and traffic are reproducible from a seed. */
export class Rng {
  /** Uniform in [0, 1). */
  readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32((Math.floor(seed) ^ 0x9e3779b9) >>> 0);
  }
  int(minIncl: number, maxIncl: number): number {
    return minIncl + Math.floor(this.next() * (maxIncl - minIncl + 1));
  }
  range(min: number, max: number): number {
    return min + this.next() * (max - min);
  }
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[Math.floor(this.next() * items.length)];
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  /** Exponential inter-arrival time with the given mean (Poisson arrivals in the open model). */
  exp(mean: number): number {
    return -Math.log(1 - this.next()) * mean;
  }
  hex(bytes: number): string {
    let s = '';
    for (let i = 0; i < bytes; i++) s += this.int(0, 255).toString(16).padStart(2, '0');
    return s;
  }
}
