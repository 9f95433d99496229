import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/core/index.js';
import { datasetIds, getDataset, loadDataset } from '../../src/data/index.js';
import { validFixture, writeFixture } from '../fixtures/data/idx-fixtures.js';

describe('dataset registry', () => {
  it('lists the built-in datasets', () => {
    expect(datasetIds()).toEqual(['fashion-mnist', 'spam-assassin']);
    expect(getDataset('spam-assassin').description).toMatch(/ham vs spam/);
  });

  it('rejects an unknown id with the known ones and the flag', async () => {
    const err = await loadDataset('cifar-10').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).subject).toBe('--dataset');
    expect((err as UserError).message).toMatch(/Unknown dataset "cifar-10"\. Known datasets: fashion-mnist, spam-assassin/);
  });

  it('passes options through to the loader', async () => {
    const dir = writeFixture(validFixture(100, 10));
    const ds = await loadDataset('fashion-mnist', { dataDir: dir, verifyChecksums: false, trainSubset: 20, cacheDir: mkdtempSync(join(tmpdir(), 'greennas-reg-')) });
    expect(ds.id).toBe('fashion-mnist');
    expect(ds.train.count).toBe(20);
  });
});
