// libvirt's scaled integers (`<memory unit='GiB'>4</memory>`, virScaleInteger): a whole number and a unit, powers of
// ten with a B (KB, MB…), powers of two otherwise (K, KiB, M, MiB…). Memory is kept in KiB, rounded up as libvirt does.
import { constants as bufferConstants } from 'node:buffer';
import { xmlError } from '../errors.js';

/**
 * the largest memory a process guest may have: it is one Node.js buffer in the runtime (4 GiB on Node 20), and a
 * save writes it; 64 GiB at most whatever the runtime allows
 */
export const MAX_MEMORY_KIB = Math.min(64 * 1024 * 1024, Math.floor(bufferConstants.MAX_LENGTH / 1024));

const UNIT_BYTES: Record<string, bigint> = (() => {
  const t: Record<string, bigint> = { b: 1n, bytes: 1n };
  const letters = ['k', 'm', 'g', 't', 'p', 'e'];
  letters.forEach((l, i) => {
    const bin = 1024n ** BigInt(i + 1);
    const dec = 1000n ** BigInt(i + 1);
    t[l] = bin;
    t[`${l}ib`] = bin;
    t[`${l}b`] = dec;
  });
  return t;
})();

/** Parse the scaled integer of `<element unit=…>text</element>` to KiB (KiB when no unit is given). */
export function parseMemoryKiB(element: string, text: string, unit: string | undefined): number {
  const value = text.trim();
  if (!/^\d+$/.test(value))
    throw xmlError(`<${element}> must be a whole number, got '${value}'`, `write e.g. <${element} unit='MiB'>512</${element}>`);
  const u = (unit ?? 'KiB').trim().toLowerCase();
  const scale = UNIT_BYTES[u];
  if (scale === undefined)
    throw xmlError(
      `<${element}> has unknown unit '${unit}'; write one of b, KiB, MiB, GiB, TiB (or KB, MB, GB, TB for powers of ten)`,
    );
  const bytes = BigInt(value) * scale;
  const kib = (bytes + 1023n) / 1024n;
  if (kib === 0n) throw xmlError(`<${element}> must be greater than 0; write e.g. <${element} unit='MiB'>64</${element}>`);
  if (kib > BigInt(MAX_MEMORY_KIB))
    throw xmlError(
      `<${element}> of ${kib} KiB is larger than the ${MAX_MEMORY_KIB / 1024 / 1024} GiB a process guest can hold ` +
        `(its memory is one Node.js buffer); write at most <${element} unit='KiB'>${MAX_MEMORY_KIB}</${element}>`,
    );
  return Number(kib);
}
