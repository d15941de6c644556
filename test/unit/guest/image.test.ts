import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { BLOCK, encodeHeader, encodeTrailer, imageSize, paddedSize, readImage } from '../../../src/guest/image.js';
import { GuestClock } from '../../../src/guest/clock.js';
import { GuestMemory } from '../../../src/guest/memory.js';

const dir = mkdtempSync(join(tmpdir(), 'gd-img-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const UUID = '12345678-1234-1234-1234-123456789abc';

function writeImage(file: string, memory: Buffer, counter = 7): void {
  const header = encodeHeader({
    name: 'g',
    uuid: UUID,
    memoryBytes: memory.length,
    payloadBytes: paddedSize(memory.length),
    counter,
    guestTimeNs: '123',
    savedAt: 'now',
  });
  const payload = Buffer.alloc(paddedSize(memory.length));
  memory.copy(payload);
  const sha = createHash('sha256').update(memory).digest();
  writeFileSync(file, Buffer.concat([header, payload, encodeTrailer(sha, header)]));
}

describe('save image', () => {
  const memory = Buffer.alloc(10_000);
  for (let i = 0; i < memory.length; i++) memory[i] = (i * 31) & 0xff;

  it('round-trips memory, counter and checksum (memory not a multiple of 4096)', async () => {
    const file = join(dir, 'ok.save');
    writeImage(file, memory);
    assert.equal(readFileSync(file).length, imageSize(memory.length));
    const img = await readImage(file, { uuid: UUID, memoryBytes: memory.length, chunkBytes: BLOCK });
    assert.ok(img.memory.equals(memory));
    assert.equal(img.facts.counter, 7);
    assert.equal(img.payloadSha, createHash('sha256').update(memory).digest('hex'));
  });

  it('refuses a truncated image', async () => {
    const file = join(dir, 'trunc.save');
    writeImage(file, memory);
    truncateSync(file, imageSize(memory.length) - 1);
    await assert.rejects(readImage(file, { uuid: UUID, memoryBytes: memory.length }), /truncated image/);
    truncateSync(file, 100);
    await assert.rejects(readImage(file, { uuid: UUID, memoryBytes: memory.length }), /truncated image/);
  });

  it('refuses changed bytes, a foreign file, another uuid and another memory size', async () => {
    const file = join(dir, 'bad.save');
    writeImage(file, memory);
    const b = readFileSync(file);
    b[BLOCK + 5] = (b[BLOCK + 5] ?? 0) ^ 1;
    writeFileSync(file, b);
    await assert.rejects(readImage(file, { uuid: UUID, memoryBytes: memory.length }), /memory checksum does not match/);
    writeImage(file, memory);
    const h = readFileSync(file);
    h[20] = (h[20] ?? 0) ^ 1; // inside the header facts
    writeFileSync(file, h);
    await assert.rejects(readImage(file, { uuid: UUID, memoryBytes: memory.length }), /corrupted image/);
    writeFileSync(file, Buffer.alloc(3 * BLOCK));
    await assert.rejects(readImage(file, { uuid: UUID, memoryBytes: memory.length }), /not a guestd save image/);
    writeImage(file, memory);
    await assert.rejects(readImage(file, { uuid: UUID.replace('1', '2'), memoryBytes: memory.length }), /belongs to uuid/);
    await assert.rejects(readImage(file, { uuid: UUID, memoryBytes: 4096 }), /holds 10000 bytes/);
  });
});

describe('guest clock and memory', () => {
  it('runs with drift, freezes, thaws from the frozen instant, and can be set', () => {
    let host = 1_000_000_000_000n;
    const clock = new GuestClock(() => host, 5_000n, 1000); // +1000 ppm
    host += 1_000_000_000n;
    assert.equal(clock.now(), 5_000n + 1_000_000_000n + 1_000_000n);
    const frozen = clock.freeze();
    host += 60_000_000_000n;
    assert.equal(clock.now(), frozen);
    clock.thaw();
    assert.equal(clock.now(), frozen, 'continues from where it stopped: behind the host');
    clock.set(host);
    assert.equal(clock.now(), host);
  });

  it('changes memory on every tick', () => {
    const m = GuestMemory.fresh(64 * 1024);
    const c0 = m.checksum();
    m.tick();
    const c1 = m.checksum();
    m.tick();
    assert.notEqual(c0, c1);
    assert.notEqual(c1, m.checksum());
    assert.equal(m.counter, 2);
    const tiny = GuestMemory.fresh(1);
    tiny.tick(); // smaller than a page: no out-of-range writes
    assert.equal(tiny.counter, 1);
  });
});
