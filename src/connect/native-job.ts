// A job on a guest over the native client (a managed save, a migration) and its progress: the job runs on a
// connection of its own and is aborted by DOMAIN_ABORT_JOB until that lands (abortableJob), a start (a restore) on
// one of its own too (onOwnConnection); its progress is read with DOMAIN_GET_JOB_STATS, or the older
// DOMAIN_GET_JOB_INFO (jobProgress). Also what both the job's own connection and NativeConnection (native.ts) close
// with (closeClient), and the wakeable wait of their polls.
import { RpcError } from '../rpc/errors.js';
import type { RemoteClient } from '../remote/client.js';
import { JobField } from '../remote/enums.js';
import { PROC } from '../remote/protocol.js';
import { typedParamsToRecord, type RemoteDomain } from '../remote/types.js';
import { isVirError, LibvirtError, VirErr, VirFrom } from '../libvirt/error.js';
import type { JobProgress } from '../libvirt/job.js';
import type { GuestRef } from './connection.js';

/** What a job runs with: NativeConnection's client, a way to open another to the same daemon, and its abort. */
export interface JobConnections {
  readonly remote: RemoteClient;
  openAnother(): Promise<RemoteClient>;
  abortJob(guest: GuestRef): Promise<void>;
}

const JOB_TYPES: readonly JobProgress['type'][] = ['none', 'bounded', 'unbounded', 'completed', 'failed', 'cancelled'];

/** CONNECT_CLOSE, then the socket; a dead peer is closed all the same */
export async function closeClient(client: RemoteClient): Promise<void> {
  if (!client.closed) {
    try {
      await client.call(PROC.CONNECT_CLOSE, undefined, { timeoutMs: 5000 });
    } catch {
      // closing anyway
    }
  }
  await client.close();
}

const num = (v: unknown): number | undefined =>
  typeof v === 'bigint' || typeof v === 'number' ? Number(v) : undefined;

/**
 * A call that runs a job on the guest (a managed save, a migration), made on a connection of its own: a daemon
 * serves at most max_client_requests calls of one connection at once (libvirtd's and guestd's default: 5) and
 * queues the rest, so jobs sharing this connection would hold back the progress polls, the state polls and the
 * abort of the stop deadline, and a queued job would start after its abort. The job waits on its own connection;
 * `beside` (progress polls, woken by `ended`) and the abort use this one. Aborting `signal` aborts the job
 * (DOMAIN_ABORT_JOB, again until it lands: it fails while the job has not started yet), and the job's failure then
 * says so.
 */
export async function abortableJob(
  on: JobConnections,
  guest: GuestRef,
  what: string,
  signal: AbortSignal | undefined,
  job: (client: RemoteClient) => Promise<unknown>,
  beside: (ended: AbortSignal) => Promise<void> = () => Promise.resolve(),
): Promise<void> {
  if (signal?.aborted) throw abortedError(guest, what);
  // no connection of its own (none could be opened): the job shares this one
  const own = await on.openAnother().catch(() => null);
  const ended = new AbortController();
  let aborted = false;
  let aborter: Promise<void> = Promise.resolve();
  const onAbort = (): void => {
    aborted = true;
    aborter = (async () => {
      while (!ended.signal.aborted) {
        try {
          return await on.abortJob(guest);
        } catch {
          await delay(50, ended.signal);
        }
      }
    })();
  };
  try {
    // aborted while the connection of its own was being opened: the job is not started
    if (signal?.aborted) throw abortedError(guest, what);
    signal?.addEventListener('abort', onAbort, { once: true });
    const alongside = beside(ended.signal);
    try {
      await job(own ?? on.remote);
    } catch (err) {
      // the host reports the cancelled job its own way; the caller asked for an abort, say that
      if (aborted && !(err instanceof RpcError)) throw abortedError(guest, what, err);
      throw err;
    } finally {
      ended.abort();
      signal?.removeEventListener('abort', onAbort);
      await Promise.all([alongside, aborter]);
    }
  } finally {
    if (own) await closeClient(own);
  }
}

/**
 * A long call that is no job to abort (a start: restoring a big image takes as long as saving it), made on a
 * connection of its own for abortableJob's reason: a daemon that has max_client_requests calls of one connection
 * running stops reading it, so restores sharing this connection would hold back the calls beside them (state and
 * readiness polls, the next guests' lookups) and, once there are that many, its keepalive answers too. Shares this
 * one when no other can be opened.
 */
export async function onOwnConnection<T>(on: JobConnections, call: (client: RemoteClient) => Promise<T>): Promise<T> {
  const own = await on.openAnother().catch(() => null);
  try {
    return await call(own ?? on.remote);
  } finally {
    if (own) await closeClient(own);
  }
}

/** The progress of the guest's job, as NativeConnection.jobInfo reports it. */
export async function jobProgress(remote: RemoteClient, dom: RemoteDomain): Promise<JobProgress> {
  try {
    const r = await remote.call(PROC.DOMAIN_GET_JOB_STATS, { dom, flags: 0 });
    const p = typedParamsToRecord(r.params);
    return progress(r.type, {
      dataTotal: num(p[JobField.DATA_TOTAL]),
      dataProcessed: num(p[JobField.DATA_PROCESSED]),
      dataRemaining: num(p[JobField.DATA_REMAINING]),
      timeElapsedMs: num(p[JobField.TIME_ELAPSED]),
    });
  } catch (err) {
    // a guest that is not running has no job (libvirtd: OPERATION_INVALID "domain is not running")
    if (isVirError(err, VirErr.OPERATION_INVALID)) return { type: 'none' };
    // an older or smaller daemon without job stats: virsh falls back to the old call, and so do we
    if (!isVirError(err, VirErr.NO_SUPPORT) && !isVirError(err, VirErr.RPC)) throw err;
    const r = await remote.call(PROC.DOMAIN_GET_JOB_INFO, { dom });
    const known = r.type === 1 || r.type === 2;
    return progress(r.type, {
      dataTotal: known ? Number(r.dataTotal) : undefined,
      dataProcessed: known ? Number(r.dataProcessed) : undefined,
      dataRemaining: known ? Number(r.dataRemaining) : undefined,
      timeElapsedMs: known ? Number(r.timeElapsed) : undefined,
    });
  }
}

function progress(type: number, values: Omit<JobProgress, 'type'>): JobProgress {
  const out: JobProgress = { type: JOB_TYPES[type] ?? 'none' };
  for (const [k, v] of Object.entries(values) as [keyof typeof values, number | undefined][]) {
    if (v !== undefined) out[k] = v;
  }
  return out;
}

function abortedError(guest: GuestRef, what: string, cause?: unknown): LibvirtError {
  return new LibvirtError(
    VirErr.OPERATION_ABORTED,
    VirFrom.DOMAIN,
    `operation aborted: ${what} of '${guest.name}' was cancelled`,
    cause === undefined ? {} : { cause },
  );
}

/** resolves after `ms`, or at once when `signal` aborts */
export const delay = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', wake);
      resolve();
    }, ms).unref();
    const wake = (): void => {
      clearTimeout(timer);
      resolve();
    };
    signal?.addEventListener('abort', wake, { once: true });
  });
