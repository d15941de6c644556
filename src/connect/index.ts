// Opening a connection: resolve the URI, then use the native client when it can reach the target, and virsh
// otherwise (ssh, SASL, client-side drivers) or when asked to.
import { UsageError } from '../errors.js';
import type { RemoteClient } from '../remote/client.js';
import type { Connection } from './connection.js';
import { hostEffects, type HostEffects } from './host-effects.js';
import { openNative } from './native.js';
import { resolveUri } from './resolve.js';
import type { ResolvedUri } from './target.js';
import { openVirsh } from './virsh.js';
import type { VirshRunner } from './virsh-process.js';

import type { Backend } from './backends.js';

export type { Backend };

export interface OpenOptions {
  backend?: Backend;
  readonly?: boolean;
  /** environment for resolution (LIBVIRT_DEFAULT_URI, XDG_*); process.env when absent */
  env?: Readonly<Record<string, string | undefined>>;
  /** replaces every effect of resolution (tests) */
  effects?: HostEffects;
  /** replaces the virsh process runner (tests) */
  virshRunner?: VirshRunner;
  /** told why the virsh backend was chosen, when it was chosen automatically */
  onNote?: (note: string) => void;
}

export interface OpenedConnection {
  connection: Connection;
  resolved: ResolvedUri;
  /** why virsh is used, when the native client was not */
  note?: string;
  /** what the connection can do beyond Connection: the REMOTE program client of a native connection; null over virsh */
  remote: RemoteClient | null;
}

export async function openConnection(uri: string, options: OpenOptions = {}): Promise<Connection> {
  return (await openConnectionDetailed(uri, options)).connection;
}

/** Like openConnection, with what the URI resolved to and why a backend was chosen. */
export async function openConnectionDetailed(uri: string, options: OpenOptions = {}): Promise<OpenedConnection> {
  const backend = options.backend ?? 'auto';
  const readonly = options.readonly ?? false;
  const fx = options.effects ?? hostEffects(options.env);
  const resolved = resolveUri(uri, { readonly }, fx);
  if (backend === 'native' || (backend === 'auto' && resolved.target !== null)) {
    if (resolved.target === null) {
      throw new UsageError(`the native client cannot open '${uri}': ${resolved.virshReason ?? 'no target'}`, {
        hint: 'use the virsh backend for this URI',
      });
    }
    const connection = await openNative(resolved);
    return { connection, resolved, remote: connection.remote };
  }
  const note = backend === 'virsh' ? undefined : `using virsh for ${uri}: ${resolved.virshReason}`;
  if (note) options.onNote?.(note);
  // virsh gets the URI as the user wrote it; `default` stays `default` so that virsh applies its own rules
  const connection = await openVirsh(uri, { readonly, ...(options.virshRunner ? { runner: options.virshRunner } : {}) });
  return { connection, resolved, remote: null, ...(note ? { note } : {}) };
}

export type { Connection } from './connection.js';
