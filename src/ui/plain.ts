// One plain line per event, for journald and log files. Where the original printed a line that people and log
// parsers know, the wording is the original's (C locale); the rest is ours. Unlike the original, every line ends
// with a newline ("Can't connect to URI. Skipping." used to glue itself to the next message).
import type { OrchestratorEvent } from '../orchestrator/events.js';
import type { GuestResult } from '../orchestrator/result.js';
import { formatBytes } from './units.js';

const PROGRESS_EVERY_MS = 5000;

function endLine(r: GuestResult): string | null {
  const name = r.name || r.uuid;
  const why = r.error ? `: ${r.error}` : '';
  switch (r.finalAction) {
    case 'suspend':
      if (r.outcome === 'done') return `Suspending ${name}: done`;
      return `Suspending ${name}: ${r.outcome}${why}`;
    case 'shutdown':
      if (r.outcome === 'done') return `Shutdown of guest ${name} complete.`;
      if (r.outcome === 'timeout') return `Shutdown of guest ${name} failed to complete in time.${r.error ? ` (${r.error})` : ''}`;
      return `Shutdown of guest ${name} ${r.outcome}${why}`;
    case 'destroy':
      if (r.outcome === 'done') return `Guest ${name} powered off (destroyed).`;
      return `Destroying guest ${name} ${r.outcome}${why}`;
    case 'migrate':
      if (r.outcome === 'done') return `Migrating ${name}: done, it runs on ${r.migratedTo ?? 'the peer'}`;
      if (r.outcome === 'planned') return null;
      return `Migrating ${name}: ${r.outcome}${why}`;
    case 'start':
      if (r.outcome === 'done') return `Resuming guest ${name}: done`;
      if (r.outcome === 'already-active') return `Resuming guest ${name}: already active`;
      if (r.outcome === 'missing') return `Resuming guest ${name}: no such guest any more, dropped from the list`;
      if (r.outcome === 'planned') return null;
      return `Resuming guest ${name}: ${r.outcome}${why}`;
    default:
      return null;
  }
}

/** The events that tell of something gone wrong: --quiet leaves out the progress, never these. */
export function isTrouble(event: OrchestratorEvent): boolean {
  switch (event.kind) {
    case 'connect-failed':
    case 'list-set-aside':
    case 'list-unwritable':
    case 'shutdowns-unrecorded':
    case 'migrations-unrecorded':
    case 'fallback':
    case 'connection-lost':
    case 'timeout-expired':
    case 'time-sync-failed':
    case 'deadline-expired':
    case 'policy-invalid':
    case 'not-ready':
      return true;
    case 'guest-end':
      return event.result.outcome === 'failed' || event.result.outcome === 'timeout' || event.result.outcome === 'aborted';
    default:
      return false;
  }
}

/** Turns events into lines; `write` gets each line without its newline. */
export function plainRenderer(write: (line: string) => void): (event: OrchestratorEvent) => void {
  const lastProgress = new Map<string, number>();
  return (event) => {
    switch (event.kind) {
      case 'list-set-aside':
        return write(
          event.moved
            ? `The list of saved guests could not be read (${event.error}); it was moved to ${event.movedTo} and a new one is written`
            : `The list of saved guests could not be read (${event.error}); a stop would move it to ${event.movedTo} and write a new one`,
        );
      case 'list-unwritable':
        return write(
          `The running guests cannot be recorded in the list of saved guests (${event.error}); acting on them all the same: start will not know them, start each with virsh start`,
        );
      case 'shutdowns-unrecorded':
        return write(
          `Cannot keep the record of asked shutdowns in ${event.file} (${event.error}): a start run before those guests are off may take them for running`,
        );
      case 'migrations-unrecorded':
        return write(
          `Cannot keep the record of guests migrated away in ${event.file} (${event.error}): start and return will not know where they went`,
        );
      case 'lock-wait':
        return write(`Waiting for another libvirt-guests run (pid ${event.pid}) to finish`);
      case 'connect-retry':
        return write(`Unable to connect to ${event.uri} currently. Retrying .. ${event.attempt}/${event.retries} (${event.error})`);
      case 'connect-failed':
        return write(
          `Can't connect to ${event.uri}. Skipping.${event.keptInList ? ' Its guests stay in the list for the next start.' : ''} (${event.error})`,
        );
      case 'running':
        return write(`Running guests on ${event.uri} URI: ${event.names.length ? event.names.join(', ') : 'no running guests.'}`);
      case 'policy-invalid':
        return write(`Policy of guest ${event.guest.name} on ${event.uri}: ${event.problems.join('; ')}`);
      case 'policy-ignored':
        if (event.names.length === 0) return;
        return write(`Leaving guests alone on ${event.uri} URI (on-shutdown=ignore): ${event.names.join(', ')}`);
      case 'tier-begin': {
        const tier = event.order === null ? 'default tier' : `tier ${event.order}`;
        const budget = event.budgetMs === null ? '' : `, ${Math.round(event.budgetMs / 1000)} seconds of STOP_DEADLINE`;
        return write(`${event.action === 'stop' ? 'Stopping' : 'Starting'} ${tier}: ${event.guests} guest${event.guests === 1 ? '' : 's'}${budget}`);
      }
      case 'not-ready':
        return write(`Guest ${event.guest.name} is not ${event.ready === 'agent' ? 'answering through its agent' : 'running'} after ${event.seconds} seconds (ready-timeout): going on with the next tier`);
      case 'transient-skipped':
        if (event.names.length === 0) return;
        return write(
          `Not ${event.action === 'suspend' ? 'suspending' : event.action === 'migrate' ? 'migrating' : 'shutting down'} transient guests on URI: ${event.uri}: ${event.names.join(', ')}`,
        );
      case 'uri-begin':
        return write(
          event.action === 'suspend'
            ? `Suspending guests on ${event.uri} URI...`
            : event.action === 'shutdown'
              ? `Shutting down guests on ${event.uri} URI...`
              : event.action === 'migrate'
                ? `Migrating guests on ${event.uri} URI...`
                : `Resuming guests on ${event.uri} URI...`,
        );
      case 'guest-begin':
        if (event.action === 'suspend') return write(`Suspending ${event.guest.name}: ...`);
        if (event.action === 'shutdown') return write(`Starting shutdown on guest: ${event.guest.name}`);
        if (event.action === 'destroy') return write(`Powering off guest: ${event.guest.name}`);
        if (event.action === 'migrate') return write(`Migrating ${event.guest.name} to ${event.to ?? 'the peer'}: ...`);
        return;
      case 'save-progress': {
        const now = Date.now();
        const key = `${event.uri} ${event.guest.uuid}`;
        if (now - (lastProgress.get(key) ?? 0) < PROGRESS_EVERY_MS) return;
        lastProgress.set(key, now);
        const pct = event.total ? ` of ${formatBytes(event.total)} (${Math.floor((100 * event.processed) / event.total)}%)` : '';
        return write(`Suspending ${event.guest.name}: ${formatBytes(event.processed)}${pct}`);
      }
      case 'guest-waiting':
        return write(
          event.secondsLeft === null
            ? `Waiting for guest ${event.guest.name} to shut down`
            : `Waiting for guest ${event.guest.name} to shut down, ${event.secondsLeft} seconds left`,
        );
      case 'uri-waiting':
        return write(
          event.secondsLeft === null
            ? `Waiting for ${event.count} guests to shut down`
            : `Waiting for ${event.count} guests to shut down, ${event.secondsLeft} seconds left`,
        );
      case 'fallback':
        return write(`Falling back from ${event.from} to ${event.to} for guest ${event.guest.name}: ${event.reason}`);
      case 'connection-lost':
        return write(`Lost the connection to ${event.uri} while suspending ${event.guest.name} (${event.error}); asked again: ${event.found}`);
      case 'timeout-expired':
        return write('Timeout expired while shutting down domains');
      case 'guest-end': {
        const line = endLine(event.result);
        if (line !== null) write(line);
        return;
      }
      case 'time-sync-failed':
        return write(`Could not set the time of guest ${event.guest.name}: ${event.error}`);
      case 'ignoring-uri':
        return write(`Ignoring guests on ${event.uri} URI (not in URIS; they stay in the list)`);
      case 'not-starting':
        return write('libvirt-guests is configured not to start any guests on boot');
      case 'deadline-expired':
        return write(`The stop deadline of ${event.seconds} seconds (STOP_DEADLINE) expired: cutting short what is left`);
      case 'connected':
      case 'plan':
      case 'finished':
        return;
    }
  };
}
