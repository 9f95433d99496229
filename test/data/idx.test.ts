import { describe, expect, it } from 'vitest';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { UserError } from '../../src/core/index.js';
import { parseIdx, readMaybeGzipped } from '../../src/data/index.js';
import { idxBytes } from '../fixtures/data/idx-fixtures.js';

function thrown(fn: () => unknown): UserError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UserError);
    return err as UserError;
  }
  throw new Error('expected a UserError');
}

describe('parseIdx', () => {
  it('reads dimensions and payload of a valid file', () => {
    const payload = Uint8Array.from({ length: 2 * 3 * 4 }, (_, i) => i);
    const r = parseIdx(idxBytes([2, 3, 4], payload), 'x.idx', 3);
    expect(r.dims).toEqual([2, 3, 4]);
    expect(Array.from(r.data)).toEqual(Array.from(payload));
  });

  it('rejects a bad magic number, naming the file', () => {
    const e = thrown(() => parseIdx(idxBytes([2], new Uint8Array(2), { magic: [1, 2, 8, 1] }), 'labels.idx', 1));
    expect(e.code).toBe('E_DATA_CORRUPT');
    expect(e.message).toContain('labels.idx');
    expect(e.message).toMatch(/magic number 0x01020801/);
  });

  it('rejects a non-ubyte element type', () => {
    const e = thrown(() => parseIdx(idxBytes([2], new Uint8Array(8), { magic: [0, 0, 0x0c, 1] }), 'f.idx', 1));
    expect(e.message).toMatch(/element type 0x0c/);
  });

  it('rejects a rank other than expected', () => {
    const e = thrown(() => parseIdx(idxBytes([4, 2], new Uint8Array(8)), 'f.idx', 3));
    expect(e.message).toMatch(/2 dimension\(s\), expected 3/);
  });

  it('rejects a file cut inside its header', () => {
    const bytes = idxBytes([5, 28, 28], new Uint8Array(0)).subarray(0, 10);
    expect(thrown(() => parseIdx(bytes, 'f.idx', 3)).message).toMatch(/shorter than its 16-byte IDX header/);
    expect(thrown(() => parseIdx(new Uint8Array([0, 0]), 'f.idx')).message).toMatch(/2 bytes long/);
  });

  it('rejects a truncated payload and one with trailing bytes', () => {
    const full = idxBytes([3, 2, 2], new Uint8Array(12));
    expect(thrown(() => parseIdx(full.subarray(0, full.length - 1), 'f.idx', 3)).message).toMatch(/truncated: header \[3 × 2 × 2\] needs 12 payload bytes, the file has 11/);
    const longer = Buffer.concat([full, Buffer.from([7])]);
    expect(thrown(() => parseIdx(longer, 'f.idx', 3)).message).toMatch(/longer than its header says/);
  });
});

describe('readMaybeGzipped', () => {
  const dir = mkdtempSync(join(tmpdir(), 'greennas-gz-'));
  const content = idxBytes([4], Uint8Array.of(1, 2, 3, 4));

  it('gunzips by content, not by name, and passes raw files through', async () => {
    writeFileSync(join(dir, 'a'), gzipSync(content));
    writeFileSync(join(dir, 'b.gz'), content);
    expect(Buffer.from(await readMaybeGzipped(join(dir, 'a')))).toEqual(content);
    expect(Buffer.from(await readMaybeGzipped(join(dir, 'b.gz')))).toEqual(content);
  });

  it('turns a cut gzip stream into a UserError naming the file', async () => {
    const gz = gzipSync(Buffer.alloc(10_000, 3));
    writeFileSync(join(dir, 'cut.gz'), gz.subarray(0, gz.length - 20));
    await expect(readMaybeGzipped(join(dir, 'cut.gz'))).rejects.toThrow(/cut\.gz is corrupt.*gzip data is damaged/);
  });

  it('turns a missing file into a UserError', async () => {
    await expect(readMaybeGzipped(join(dir, 'nope'))).rejects.toBeInstanceOf(UserError);
  });
});
