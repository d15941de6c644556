// How a process guest behaves, from its `<gd:behavior>` metadata element (namespace BEHAVIOR_NS): boot and shutdown
// times, whether it honours the power button, has an agent, its clock drift and save speed.
import type { GuestBehavior } from '../../../guest/protocol.js';
import { xmlError } from '../errors.js';
import type { MetadataElement } from './metadata.js';
import { attrsOf, readXml, tagOf } from './tree.js';

export const BEHAVIOR_NS = 'urn:guestd:behavior:1';

export const DEFAULT_BEHAVIOR: GuestBehavior = {
  bootSeconds: 0,
  shutdownSeconds: 1,
  honorShutdown: true,
  agent: true,
  driftPpm: 0,
  saveMiBps: 0,
};

function parseBool(attr: string, raw: string | undefined, dflt: boolean): boolean {
  if (raw === undefined) return dflt;
  if (raw === 'yes' || raw === 'on' || raw === 'true') return true;
  if (raw === 'no' || raw === 'off' || raw === 'false') return false;
  throw xmlError(`<gd:behavior ${attr}='${raw}'> is not yes/no; write ${attr}="yes" or ${attr}="no"`);
}

function parseNumber(attr: string, raw: string | undefined, dflt: number, min: number, max: number): number {
  if (raw === undefined) return dflt;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || n < min || n > max)
    throw xmlError(`<gd:behavior ${attr}='${raw}'> must be a number from ${min} to ${max}; write e.g. ${attr}="${dflt}"`);
  return n;
}

function parseBehavior(attrs: Record<string, string>): GuestBehavior {
  const d = DEFAULT_BEHAVIOR;
  return {
    bootSeconds: parseNumber('boot-seconds', attrs['boot-seconds'], d.bootSeconds, 0, 3600),
    shutdownSeconds: parseNumber('shutdown-seconds', attrs['shutdown-seconds'], d.shutdownSeconds, 0, 3600),
    honorShutdown: parseBool('honor-shutdown', attrs['honor-shutdown'], d.honorShutdown),
    agent: parseBool('agent', attrs.agent, d.agent),
    driftPpm: parseNumber('drift-ppm', attrs['drift-ppm'], d.driftPpm, -1e6, 1e6),
    saveMiBps: parseNumber('save-mib-per-second', attrs['save-mib-per-second'], d.saveMiBps, 0, 1e6),
  };
}

/** the behaviour a definition's metadata elements give (the defaults without a behaviour element) */
export function behaviorFrom(metadata: MetadataElement[]): GuestBehavior {
  const el = metadata.find((m) => m.uri === BEHAVIOR_NS);
  if (!el) return { ...DEFAULT_BEHAVIOR };
  const known = parsed.get(el.xml);
  if (known) return { ...known };
  const node = readXml(el.xml, 'behavior metadata XML').find((n) => tagOf(n) !== '#text');
  if (!node || tagOf(node).split(':').pop() !== 'behavior')
    throw xmlError(`the element in namespace ${BEHAVIOR_NS} must be <gd:behavior …/>`);
  const behavior = parseBehavior(attrsOf(node));
  if (parsed.size >= PARSED_MAX) parsed.clear();
  parsed.set(el.xml, behavior);
  return { ...behavior };
}

/** behaviour elements already parsed (a fleet's guests mostly share a few): a pure function's results, bounded */
const parsed = new Map<string, GuestBehavior>();
const PARSED_MAX = 256;
