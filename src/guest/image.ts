// The save image format. A 4096-byte header block (magic, version, JSON facts), the memory payload padded to a
// multiple of 4096, and a 4096-byte trailer block (magic, sha256 of the memory bytes, sha256 of the header). Every piece
// is block-aligned so it can be written with O_DIRECT, and the checksums sit in a trailer so the image can be
// streamed (through `dd`, too) without a second pass. A truncated or corrupted image fails validation with a
// message naming what is wrong; validation never modifies the file.
import { createHash } from 'node:crypto';
import { openImageReader, type ImageReader } from './direct-io.js';

export const BLOCK = 4096;
const HEADER_MAGIC = Buffer.from('GUESTDSV', 'latin1');
const TRAILER_MAGIC = Buffer.from('GUESTDND', 'latin1');
const IMAGE_VERSION = 1;

export interface ImageFacts {
  name: string;
  uuid: string;
  memoryBytes: number;
  payloadBytes: number;
  counter: number;
  /** guest clock at the moment the guest was paused for the save */
  guestTimeNs: string;
  savedAt: string;
  /**
   * the guest comes back paused: a client had suspended it when the save began, or the save's flags said so
   * (libvirt's was_running, inverted). Absent from the images of older guestd and from migration: it comes back running.
   */
  paused?: boolean;
}

export class ImageError extends Error {
  override name = 'ImageError';
}

/** where process `pid` writes an image before renaming it to `file` once complete (so `file` is never half) */
export const partialImage = (file: string, pid: number): string => `${file}.part-${pid}`;

export const paddedSize = (n: number): number => Math.ceil(n / BLOCK) * BLOCK;
export const imageSize = (memoryBytes: number): number => BLOCK + paddedSize(memoryBytes) + BLOCK;

export function encodeHeader(facts: ImageFacts): Buffer {
  const block = Buffer.alloc(BLOCK);
  HEADER_MAGIC.copy(block, 0);
  block.writeUInt32BE(IMAGE_VERSION, 8);
  const json = Buffer.from(JSON.stringify(facts), 'utf8');
  if (json.length > BLOCK - 16) throw new ImageError('image header facts too large');
  block.writeUInt32BE(json.length, 12);
  json.copy(block, 16);
  return block;
}

export function encodeTrailer(payloadSha: Buffer, header: Buffer): Buffer {
  const block = Buffer.alloc(BLOCK);
  TRAILER_MAGIC.copy(block, 0);
  payloadSha.copy(block, 8);
  createHash('sha256').update(header).digest().copy(block, 40);
  return block;
}

export function decodeHeader(block: Buffer, file: string): ImageFacts {
  if (block.length < BLOCK) throw new ImageError(`${file}: truncated image: the ${BLOCK}-byte header is incomplete`);
  if (!block.subarray(0, 8).equals(HEADER_MAGIC))
    throw new ImageError(`${file}: not a guestd save image (bad magic in the header)`);
  const version = block.readUInt32BE(8);
  if (version !== IMAGE_VERSION)
    throw new ImageError(`${file}: save image version ${version} is not supported (this guestd reads ${IMAGE_VERSION})`);
  const len = block.readUInt32BE(12);
  if (len > BLOCK - 16) throw new ImageError(`${file}: corrupted image header (facts length ${len})`);
  try {
    return JSON.parse(block.subarray(16, 16 + len).toString('utf8')) as ImageFacts;
  } catch {
    throw new ImageError(`${file}: corrupted image header (facts are not readable)`);
  }
}

export interface ReadImageOptions {
  uuid: string;
  memoryBytes: number;
  /** called with bytes read so far */
  onProgress?: (processed: number, total: number) => void | Promise<void>;
  /** O_DIRECT reads; falls back to buffered reads when the filesystem refuses */
  bypassCache?: boolean;
  /** a multiple of 4096 */
  chunkBytes?: number;
}

/** Validate an image fully and load its memory. Throws ImageError; never writes. */
export async function readImage(
  file: string,
  options: ReadImageOptions,
): Promise<{ facts: ImageFacts; memory: Buffer; payloadSha: string; direct: boolean }> {
  const chunk = options.chunkBytes ?? 1 << 20;
  let reader: ImageReader;
  try {
    reader = await openImageReader(file, chunk, options.bypassCache ?? false);
  } catch (err) {
    throw new ImageError(`${file}: cannot open the save image: ${(err as Error).message}`);
  }
  try {
    const size = await reader.size();
    const header = Buffer.from(await reader.read(BLOCK, 0));
    const facts = decodeHeader(header, file);
    if (facts.uuid !== options.uuid)
      throw new ImageError(`${file}: the image belongs to uuid ${facts.uuid}, not to this domain (${options.uuid})`);
    if (facts.memoryBytes !== options.memoryBytes)
      throw new ImageError(
        `${file}: the image holds ${facts.memoryBytes} bytes of memory but the domain now has ${options.memoryBytes}; ` +
          'restore needs the memory size it was saved with',
      );
    if (facts.payloadBytes !== paddedSize(facts.memoryBytes))
      throw new ImageError(`${file}: corrupted image header (payload size ${facts.payloadBytes})`);
    const expected = imageSize(facts.memoryBytes);
    if (size < expected) throw new ImageError(`${file}: truncated image: ${size} bytes, expected ${expected}`);
    if (size > expected) throw new ImageError(`${file}: corrupted image: ${size} bytes, expected ${expected}`);
    const trailer = Buffer.from(await reader.read(BLOCK, BLOCK + facts.payloadBytes));
    if (trailer.length < BLOCK || !trailer.subarray(0, 8).equals(TRAILER_MAGIC))
      throw new ImageError(`${file}: truncated or corrupted image (no trailer: the save did not finish)`);
    if (!createHash('sha256').update(header).digest().equals(trailer.subarray(40, 72)))
      throw new ImageError(`${file}: corrupted image: the header checksum does not match`);
    // one pass, streamed: the disk reads the next chunk straight into the guest's memory while this one is hashed
    const payload = await reader.allocate(facts.payloadBytes);
    const hash = createHash('sha256');
    const readChunk = async (pos: number): Promise<void> => {
      const n = Math.min(chunk, facts.payloadBytes - pos);
      const got = await reader.readInto(payload.subarray(pos, pos + n), BLOCK + pos);
      if (got !== n) throw new ImageError(`${file}: truncated image (short read at ${BLOCK + pos + got})`);
    };
    let pending = readChunk(0);
    try {
      for (let pos = 0; pos < facts.payloadBytes; pos += chunk) {
        await pending;
        const next = pos + chunk;
        if (next < facts.payloadBytes) pending = readChunk(next);
        const n = Math.min(chunk, facts.payloadBytes - pos);
        // the checksum covers the memory bytes only (not the block padding), so it equals query-state's checksum
        const useful = Math.max(0, Math.min(n, facts.memoryBytes - pos));
        hash.update(payload.subarray(pos, pos + useful));
        await options.onProgress?.(pos + n, facts.payloadBytes);
      }
    } catch (err) {
      await pending.catch(() => undefined); // no read left running on a closed file
      throw err;
    }
    const memory = payload.subarray(0, facts.memoryBytes);
    const sha = hash.digest();
    if (!sha.equals(trailer.subarray(8, 40)))
      throw new ImageError(`${file}: corrupted image: the memory checksum does not match (the bytes were changed)`);
    return { facts, memory, payloadSha: sha.toString('hex'), direct: reader.direct };
  } finally {
    await reader.close();
  }
}
