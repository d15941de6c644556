// Connecting to a daemon that may not be up yet: at boot a socket-activated daemon (or one still starting) refuses
// the first connections, and the original gave up at once ("Can't connect to URI. Skipping."), losing the guests
// of that URI. We retry CONNECT_RETRIES times, RETRIES_SLEEP seconds apart, within the stop deadline.
import type { Connection } from '../connect/connection.js';
import { errorText, type Services } from './services.js';

export interface RetryPolicy {
  retries: number;
  sleepMs: number;
  readonly: boolean;
  signal?: AbortSignal;
}

export async function connectWithRetry(uri: string, policy: RetryPolicy, services: Services): Promise<Connection> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await services.connect(uri, { readonly: policy.readonly });
    } catch (err) {
      if (attempt >= policy.retries || policy.signal?.aborted) throw err;
      services.report({ kind: 'connect-retry', uri, attempt: attempt + 1, retries: policy.retries, error: errorText(err) });
      try {
        await services.clock.sleep(policy.sleepMs, policy.signal);
      } catch {
        throw err;
      }
    }
  }
}
