// After the daemon went away during a managed save, what really happened: a new connection (with the usual retries,
// within the stop deadline) asks for the guest's state. A guest that is off with a managed save image was saved;
// one that still runs was not; when the daemon cannot be asked, the outcome is unknown and reported as such.
import type { GuestRef } from '../connect/connection.js';
import { connectWithRetry } from './connect-retry.js';
import { errorText } from './services.js';
import type { UriRun } from './uri-run.js';

export interface Finding {
  saved: boolean;
  /** what was found, in words */
  found: string;
}

export async function askAgainAfterLoss(run: UriRun, guest: GuestRef, lost: unknown): Promise<Finding> {
  const { config, services } = run;
  let finding: Finding;
  try {
    const conn = await connectWithRetry(
      run.uri,
      { retries: config.CONNECT_RETRIES, sleepMs: config.RETRIES_SLEEP * 1000, readonly: true, signal: run.deadline.signal },
      services,
    );
    try {
      const ref = await conn.lookup(guest.uuid);
      const { state } = await conn.state(ref);
      const image = state === 'shutoff' && (await conn.hasManagedSave(ref));
      finding = image
        ? { saved: true, found: 'the guest is off with its managed save image: saved' }
        : { saved: false, found: `the guest is ${state}${state === 'shutoff' ? ' without a managed save image' : ''}: not saved` };
    } finally {
      await conn.close().catch(() => undefined);
    }
  } catch (err) {
    finding = { saved: false, found: `the daemon could not be asked again (${errorText(err)}): whether the save completed is unknown` };
  }
  services.report({ kind: 'connection-lost', uri: run.uri, guest, error: errorText(lost), found: finding.found });
  return finding;
}
