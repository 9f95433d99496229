import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

/** Where Debian's dataset-fashion-mnist package puts the IDX files. */
export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

/** A decoded IDX file: unsigned bytes with their dimensions. */
export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

/** Reads an IDX file (optionally gzip-compressed) of unsigned bytes (type code 0x08). */
export function readIdx(path: string): IdxArray {
  let buf = readFileSync(path);
  if (buf[0] === 0x1f && buf[1] === 0x8b) buf = gunzipSync(buf);
  if (buf[0] !== 0 || buf[1] !== 0) throw new Error(`${path}: not an IDX file (bad magic)`);
  if (buf[2] !== 0x08) throw new Error(`${path}: IDX type 0x${buf[2]!.toString(16)} is not unsigned byte`);
  const rank = buf[3]!;
  const dims: number[] = [];
  for (let i = 0; i < rank; i++) dims.push(buf.readUInt32BE(4 + 4 * i));
  const offset = 4 + 4 * rank;
  const size = dims.reduce((a, b) => a * b, 1);
  if (buf.length < offset + size) throw new Error(`${path}: truncated (${buf.length - offset} of ${size} bytes)`);
  return { dims, data: new Uint8Array(buf.buffer, buf.byteOffset + offset, size) };
}

/** Images scaled to [0, 1] as float32 `[n, 28, 28, 1]` in row-major order, and labels as int32. */
export interface ImageSet {
  images: Float32Array;
  labels: Int32Array;
  count: number;
}

/** Loads the Fashion-MNIST train or test split. */
export function loadFashionMnist(split: 'train' | 'test', dir = FASHION_MNIST_DIR): ImageSet {
  const prefix = split === 'train' ? 'train' : 't10k';
  const images = readIdx(`${dir}/${prefix}-images-idx3-ubyte.gz`);
  const labels = readIdx(`${dir}/${prefix}-labels-idx1-ubyte.gz`);
  const count = images.dims[0]!;
  if (labels.dims[0] !== count) throw new Error(`Fashion-MNIST ${split}: ${count} images but ${labels.dims[0]} labels`);
  const x = new Float32Array(images.data.length);
  for (let i = 0; i < x.length; i++) x[i] = images.data[i]! / 255;
  return { images: x, labels: Int32Array.from(labels.data), count };
}
