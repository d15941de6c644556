// Guest UUIDs: 16 bytes, written as 32 hex digits in groups of 8-4-4-4-12. libvirt reads them with or without the
// dashes, in either case; everything here carries them in the canonical form, lowercase with dashes, as virsh prints.

const UUID_TEXT = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
const DASHED_LENGTH = 36;
const CANONICAL = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The canonical form of a UUID written with or without its dashes, in either case; null when `text` is none. */
export function parseUuid(text: string): string | null {
  if (!UUID_TEXT.test(text)) return null;
  return dashed(text.replace(/-/g, '').toLowerCase());
}

/** Like parseUuid, for text that must be written as virsh prints a UUID (8-4-4-4-12, either case). */
export function parseDashedUuid(text: string): string | null {
  return text.length === DASHED_LENGTH ? parseUuid(text) : null;
}

/** The 16 bytes of a UUID written as parseUuid reads it; null when `text` is none. */
export function uuidToBytes(text: string): Buffer | null {
  // the canonical form (what every UUID here is carried as) straight to bytes: the wire encodes thousands per list
  if (CANONICAL.test(text)) return Buffer.from(text.replace(/-/g, ''), 'hex');
  const uuid = parseUuid(text);
  return uuid === null ? null : Buffer.from(uuid.replace(/-/g, ''), 'hex');
}

/** The canonical form of 16 bytes. */
export function uuidFromBytes(bytes: Uint8Array): string {
  return dashed((Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes)).toString('hex'));
}

/** 32 lowercase hex digits as 8-4-4-4-12 */
function dashed(hex: string): string {
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
