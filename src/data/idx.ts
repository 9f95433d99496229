import { gunzip } from 'node:zlib';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { UserError } from '../core/index.js';

const gunzipAsync = promisify(gunzip);

/** IDX element type code for unsigned bytes, the only one Fashion-MNIST and MNIST use. */
const IDX_UBYTE = 0x08;

/** A parsed IDX file (the MNIST container format): dimensions and unsigned-byte payload. */
export interface IdxArray {
  /** Dimensions from the header, outermost first (e.g. `[60000, 28, 28]`). */
  dims: number[];
  /** Payload, `dims` multiplied together bytes long; a view into the file's buffer. */
  data: Uint8Array;
}

/**
 * Parses an IDX buffer of unsigned bytes. Checks the magic number, element type, number of
 * dimensions (when `expectedRank` is given) and that the payload is exactly as long as the header
 * says, so a truncated or padded file is rejected instead of partly read.
 */
export function parseIdx(bytes: Uint8Array, fileLabel: string, expectedRank?: number): IdxArray {
  if (bytes.length < 4) {
    throw corrupt(fileLabel, `it is ${bytes.length} bytes long, shorter than the 4-byte IDX magic number`);
  }
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    const magic = Buffer.from(bytes.subarray(0, 4)).toString('hex');
    throw corrupt(fileLabel, `bad IDX magic number 0x${magic} (an IDX file starts with two zero bytes)`);
  }
  const type = bytes[2] as number;
  const rank = bytes[3] as number;
  if (type !== IDX_UBYTE) {
    throw corrupt(fileLabel, `IDX element type 0x${type.toString(16).padStart(2, '0')} is not unsigned byte (0x08)`);
  }
  if (rank === 0 || (expectedRank !== undefined && rank !== expectedRank)) {
    throw corrupt(fileLabel, `IDX header has ${rank} dimension(s), expected ${expectedRank ?? 'at least 1'}`);
  }
  const headerBytes = 4 + 4 * rank;
  if (bytes.length < headerBytes) {
    throw corrupt(fileLabel, `file is ${bytes.length} bytes, shorter than its ${headerBytes}-byte IDX header`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  let payloadBytes = 1;
  for (let d = 0; d < rank; d++) {
    const size = view.getUint32(4 + 4 * d, false);
    dims.push(size);
    payloadBytes *= size;
  }
  const actual = bytes.length - headerBytes;
  if (actual !== payloadBytes) {
    const what = actual < payloadBytes ? 'truncated' : 'longer than its header says';
    throw corrupt(
      fileLabel,
      `${what}: header [${dims.join(' × ')}] needs ${payloadBytes} payload bytes, the file has ${actual}`,
    );
  }
  return { dims, data: bytes.subarray(headerBytes) };
}

/** Reads a file and gunzips it when it starts with the gzip magic bytes (whatever its name says). */
export async function readMaybeGzipped(path: string): Promise<Uint8Array> {
  let raw: Buffer;
  try {
    raw = await readFile(path);
  } catch (err) {
    throw new UserError(`Cannot read ${path}: ${(err as Error).message}. Check the path and its permissions.`, {
      subject: path,
      cause: err,
    });
  }
  if (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      return new Uint8Array(await gunzipAsync(raw));
    } catch (err) {
      throw corrupt(path, `gzip data is damaged (${(err as Error).message}); the download or copy was probably cut short`);
    }
  }
  return new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
}

/** The UserError for a file that is not what it claims to be; names the file and how to recover. */
export function corrupt(fileLabel: string, why: string): UserError {
  return new UserError(
    `${fileLabel} is corrupt or not the expected IDX file: ${why}. ` +
      `Replace it with a fresh copy (for Fashion-MNIST: apt install --reinstall dataset-fashion-mnist, ` +
      `or put the four official files in --data-dir).`,
    { subject: fileLabel, code: 'E_DATA_CORRUPT' },
  );
}
