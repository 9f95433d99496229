import { describe, expect, it } from 'vitest';
import { TrialError, UserError, createRng } from '../../src/core/index.js';
import { loadNb201Table, nasbench201, nasbench201Records, opCode } from '../../search-spaces/nasbench201/index.js';

// Rows quoted from nb201_acc_hw.csv (arch_idx 0 and 1).
const ARCH0 = '|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|';
const ARCH1 = '|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|';

const metricMap = (values: { name: string; value: number }[]) => Object.fromEntries(values.map((v) => [v.name, v.value]));

describe('nasbench201 space', () => {
  it('encodes and decodes the cell string in the table edge order', () => {
    expect(nasbench201.encode(ARCH0)).toEqual([4, 2, 1, 2, 1, 1]);
    expect(nasbench201.decode([4, 2, 1, 2, 1, 1])).toBe(ARCH0);
    expect(opCode([4, 2, 1, 2, 1, 1])).toBe(Number.parseInt('421211', 5));
    expect(nasbench201.decisions()).toHaveLength(6);
    expect(nasbench201.decisions().every((d) => d.choices.length === 5)).toBe(true);
  });

  it('loads all 15,625 rows, each addressable by its op code', () => {
    const t = loadNb201Table();
    expect(t.archStr).toHaveLength(15625);
    expect([...t.rowOfCode].every((r) => r >= 0)).toBe(true);
    expect(new Set(t.rowOfCode).size).toBe(15625);
    // Every row's string round-trips through encode/decode to its own op code.
    for (let code = 0; code < 15625; code += 97) {
      const row = t.rowOfCode[code] as number;
      expect(opCode(nasbench201.encode(t.archStr[row] as string))).toBe(code);
    }
  });

  it('looks up metrics with units and provenance', () => {
    const values = nasbench201.evaluate!(ARCH1, { dataset: 'cifar10' }) as ReturnType<NonNullable<typeof nasbench201.evaluate>> & unknown[];
    const m = metricMap(values as { name: string; value: number }[]);
    expect(m['accuracy']).toBeCloseTo(0.9366, 6);
    expect(m['latency.edgegpu']).toBeCloseTo(6.547689437866211, 9);
    expect(m['energy.edgegpu']).toBeCloseTo(29.997147878011067, 9);
    expect(m['latency.edgetpu']).toBeCloseTo(1.438988361000156, 9);
    expect(m['flops']).toBeCloseTo(113.95137, 6);
    expect(m['params']).toBeCloseTo(0.802426, 6);
    const acc = (values as { name: string; unit: string; source: string; detail?: Record<string, unknown> }[]).find((v) => v.name === 'accuracy');
    expect(acc).toMatchObject({ unit: 'fraction', source: 'table', detail: { column: 'acc_test_cifar10' } });
    const cifar100 = metricMap(nasbench201.evaluate!(ARCH1, { dataset: 'cifar100' }) as { name: string; value: number }[]);
    expect(cifar100['accuracy']).toBeCloseTo(0.7029333326822916, 9);
    expect(cifar100['flops']).toBeCloseTo(113.95722, 6);
  });

  it('fails the trial with the reason when a needed value is missing, and not otherwise', () => {
    // ARCH0 has no edgegpu values and a derived fpga energy.
    expect(() => nasbench201.evaluate!(ARCH0, { dataset: 'cifar10', metrics: ['accuracy', 'latency.edgegpu'] })).toThrow(TrialError);
    expect(() => nasbench201.evaluate!(ARCH0, { dataset: 'cifar10', metrics: ['accuracy', 'latency.edgegpu'] })).toThrow(/no edgegpu latency/);
    const values = nasbench201.evaluate!(ARCH0, { dataset: 'cifar10', metrics: ['accuracy', 'latency.raspi4'] }) as { name: string; value: number; source: string }[];
    expect(values.find((v) => v.name === 'latency.edgegpu')).toBeUndefined();
    expect(values.find((v) => v.name === 'energy.fpga')).toMatchObject({ value: 18.01072, source: 'computed' });
    const t = loadNb201Table();
    const failedRow = t.edgetpuCompileFailed.indexOf(1);
    expect(() => nasbench201.evaluate!(t.archStr[failedRow] as string, { dataset: 'cifar10', metrics: ['latency.edgetpu'] })).toThrow(/EdgeTPU compiler failed/);
  });

  it('rejects bad input with a UserError naming the fix', () => {
    expect(() => nasbench201.validate('|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|')).toThrow(UserError);
    expect(() => nasbench201.validate('|none~0|+|none~0|none~1|')).toThrow(/3 node groups/);
    expect(() => nasbench201.validate(42)).toThrow(/expected a string/);
    expect(() => nasbench201.metrics('mnist')).toThrow(/--dataset 'mnist'.*cifar10, cifar100, imagenet16-120/);
    expect(nasbench201.validate(ARCH1)).toBe(ARCH1);
    expect(nasbench201.metrics('ImageNet16-120').map((m) => m.name)).toContain('energy.eyeriss');
  });

  it('samples, mutates and crosses over deterministically within the space', () => {
    const a = createRng(7);
    const b = createRng(7);
    const xs = Array.from({ length: 20 }, () => nasbench201.sample(a));
    expect(Array.from({ length: 20 }, () => nasbench201.sample(b))).toEqual(xs);
    for (const x of xs) {
      const m = nasbench201.mutate(x, a);
      const diff = nasbench201.encode(m).filter((c, i) => c !== nasbench201.encode(x)[i]).length;
      expect(diff).toBe(1);
      const child = nasbench201.crossover!(x, m, a);
      expect(nasbench201.key(child)).toBe(child);
    }
  });

  it('exposes the whole table for true fronts', () => {
    const records = nasbench201Records('cifar10');
    expect(records).toHaveLength(15625);
    expect(records.filter((r) => 'latency.edgegpu' in r.metrics)).toHaveLength(12554);
    expect(records.every((r) => 'latency.raspi4' in r.metrics && r.metrics['accuracy']! <= 1)).toBe(true);
  });

  it('path-code features make cells that differ only on dead edges equal', () => {
    // Both cells reach the output only through edge 0->3 (conv 3x3); edges into nodes 1 and 2 are dead.
    const a = '|nor_conv_1x1~0|+|skip_connect~0|none~1|+|nor_conv_3x3~0|none~1|none~2|';
    const b = '|avg_pool_3x3~0|+|none~0|nor_conv_3x3~1|+|nor_conv_3x3~0|none~1|none~2|';
    expect(nasbench201.features!(a)).toEqual(nasbench201.features!(b));
    expect(nasbench201.features!(a)).toEqual([1 + 2, 0, 0, 0]);
    expect(nasbench201.features!(ARCH1)).not.toEqual(nasbench201.features!(a));
    expect(nasbench201.features!('|none~0|+|none~0|none~1|+|none~0|none~1|none~2|')).toEqual([0, 0, 0, 0]);
  });

  it('accepts only the canonical cell string, so the string is its own key', () => {
    expect(() => nasbench201.validate('|none~0~1|+|none~0|none~1|+|none~0|none~1|none~2|')).toThrow(/op~node/);
    expect(() => nasbench201.validate('|none~1|+|none~0|none~1|+|none~0|none~1|none~2|')).toThrow(/from node 0/);
    expect(nasbench201.key(ARCH0)).toBe(ARCH0);
  });

  it('enumerates every cell once, each a canonical key the table has', () => {
    const all = nasbench201.enumerate!();
    expect(all.length).toBe(15_625);
    expect(new Set(all).size).toBe(15_625);
    const table = loadNb201Table();
    for (const arch of all) {
      expect(nasbench201.key(arch)).toBe(arch);
      expect(table.rowOfCode[opCode(nasbench201.encode(arch))]).toBeGreaterThanOrEqual(0);
    }
    expect(nasbench201.enumerate!()).toBe(all);
  });
});
