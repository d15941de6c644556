// The migration stream: how a running guest's memory travels from the source guest runtime to the destination
// daemon, which turns it into an ordinary save image (image.ts) and restores the guest from it. The destination
// listens (its PREPARE step), the source connects (PERFORM):
//   hello   one JSON line {token, uuid, name, memoryBytes}: the token from the destination's cookie proves the sender
//   frames  'P' u32 firstPage u32 count, then count × 4096 bytes (the last page padded with zeros)
//           'E' u32 length u32 0, then the final facts as JSON ({counter, guestTimeNs, checksum})
//   answer  one JSON line from the destination: {"ok":true} or {"error":"…"} once the image is complete
// A page is sent again whenever the guest wrote it after it was sent (live migration); the last copy wins.
import { BLOCK } from './image.js';

export const PAGE = BLOCK;
export const FRAME_HEADER = 9;
export const FRAME = { PAGES: 0x50, END: 0x45 } as const;

export interface MigrationHello {
  token: string;
  uuid: string;
  name: string;
  memoryBytes: number;
}

/** the guest's state at the moment it was paused for the last pass */
export interface MigrationFacts {
  counter: number;
  guestTimeNs: string;
  /** sha256 hex of the memory bytes */
  checksum: string;
}

export type MigrationAnswer = { ok: true } | { error: string };

/** where the destination listens: `unix:/path` or `tcp:host:port` */
export type MigrationAddress = { path: string } | { host: string; port: number };

export function formatMigrationUri(address: MigrationAddress): string {
  return 'path' in address ? `unix:${address.path}` : `tcp:${address.host.includes(':') ? `[${address.host}]` : address.host}:${address.port}`;
}

export function parseMigrationUri(uri: string): MigrationAddress {
  if (uri.startsWith('unix:')) {
    const path = uri.slice('unix:'.length).replace(/^\/\/(?=\/)/, '');
    if (path.startsWith('/')) return { path };
  }
  const tcp = /^tcp:(?:\/\/)?(?:\[([^\]]+)\]|([^:/]+)):(\d+)$/.exec(uri);
  if (tcp) {
    const port = Number(tcp[3]);
    if (port >= 0 && port < 65536) return { host: tcp[1] ?? tcp[2] ?? '', port };
  }
  throw new Error(`'${uri}' is not a migration URI (unix:/path or tcp:host:port)`);
}

export function pagesFrame(firstPage: number, count: number): Buffer {
  const b = Buffer.alloc(FRAME_HEADER);
  b.writeUInt8(FRAME.PAGES, 0);
  b.writeUInt32BE(firstPage, 1);
  b.writeUInt32BE(count, 5);
  return b;
}

export function endFrame(facts: MigrationFacts): Buffer {
  const json = Buffer.from(JSON.stringify(facts), 'utf8');
  const b = Buffer.alloc(FRAME_HEADER);
  b.writeUInt8(FRAME.END, 0);
  b.writeUInt32BE(json.length, 1);
  return Buffer.concat([b, json]);
}

/** beside an incoming image: the migration was cancelled, the runtime waiting for the image gives up */
export const cancelMarker = (image: string): string => `${image}.cancel`;

export const pageCount = (memoryBytes: number): number => Math.ceil(memoryBytes / PAGE);
