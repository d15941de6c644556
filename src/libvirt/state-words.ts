// The words libvirt's tools use for guest states and state reasons (virsh's virshDomainStateToString and
// virshDomain*ReasonTypeToString), by libvirt's enum numbers: what people expect to read, and what virsh prints.
import type { DomainState } from './domain-state.js';

/** virsh's state words (virshDomainStateToString), by libvirt's enum order. */
export const STATE_WORDS: ReadonlyArray<[string, DomainState]> = [
  ['no state', 'nostate'],
  ['running', 'running'],
  ['idle', 'blocked'],
  ['paused', 'paused'],
  ['in shutdown', 'shutdown'],
  ['shut off', 'shutoff'],
  ['crashed', 'crashed'],
  ['pmsuspended', 'pmsuspended'],
];

/** virsh's reason words per state (virshDomain*ReasonTypeToString); index = libvirt's reason number. */
export const REASON_WORDS: Readonly<Record<DomainState, readonly string[]>> = {
  nostate: ['unknown'],
  running: ['unknown', 'booted', 'migrated', 'restored', 'from snapshot', 'unpaused', 'migration canceled',
    'save canceled', 'event wakeup', 'crashed', 'post-copy', 'post-copy failed'],
  blocked: ['unknown'],
  paused: ['unknown', 'user', 'migrating', 'saving', 'dumping', 'I/O error', 'watchdog', 'from snapshot',
    'shutting down', 'creating snapshot', 'crashed', 'starting up', 'post-copy', 'post-copy failed', 'api error'],
  shutdown: ['unknown', 'user'],
  shutoff: ['unknown', 'shutdown', 'destroyed', 'crashed', 'migrated', 'saved', 'failed', 'from snapshot', 'daemon'],
  crashed: ['unknown', 'panicked'],
  pmsuspended: ['unknown'],
};

/** virsh's word for a state ("shut off") */
export function stateWord(state: DomainState): string {
  return STATE_WORDS.find(([, st]) => st === state)?.[0] ?? state;
}

/** virsh's word for a state reason ("restored"), as `domstate --reason` prints it */
export function reasonWord(state: DomainState, reason: number): string {
  return REASON_WORDS[state][reason] ?? 'unknown';
}
