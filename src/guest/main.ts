// Entry point of the guest runtime: `node dist/src/guest/main.js --name N --uuid U --memory-bytes B
//   --monitor SOCKET --behavior JSON [--restore IMAGE] [--bypass-cache] [--paused] [--ready-fd 3]`.
// The process driver starts it detached (own session, stdio to a log file) so it outlives the daemon. Once the
// monitor listens (or the restore failed), one JSON line goes to the ready fd and the fd is closed.
import { closeSync, existsSync, writeSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { GuestBehavior, ReadyLine } from './protocol.js';
import { GuestRuntime, writeLog } from './runtime.js';
import { ImageError } from './image.js';
import { cancelMarker } from './migration-stream.js';

const { values } = parseArgs({
  options: {
    name: { type: 'string' },
    uuid: { type: 'string' },
    'memory-bytes': { type: 'string' },
    monitor: { type: 'string' },
    behavior: { type: 'string' },
    restore: { type: 'string' },
    'bypass-cache': { type: 'boolean', default: false },
    /** come up paused (start --paused), whatever the image says */
    paused: { type: 'boolean', default: false },
    'ready-fd': { type: 'string' },
    'tick-ms': { type: 'string' },
    /** an incoming migration: start now, restore once the image appears (or give up at IMAGE.cancel) */
    'await-restore': { type: 'boolean', default: false },
  },
  strict: true,
});

const readyFd = values['ready-fd'] === undefined ? null : Number(values['ready-fd']);
function ready(line: ReadyLine): void {
  if (readyFd === null) return;
  try {
    writeSync(readyFd, `${JSON.stringify(line)}\n`);
    closeSync(readyFd);
  } catch {
    /* the driver went away; the log has the story */
  }
}

function fail(cls: string, desc: string): never {
  writeLog(`guest ${values.name ?? '?'}: ${desc}`);
  ready({ error: { class: cls, desc } });
  process.exit(1);
}

if (!values.name || !values.uuid || !values['memory-bytes'] || !values.monitor || !values.behavior)
  fail('InvalidArgument', 'usage: main.js --name N --uuid U --memory-bytes B --monitor SOCKET --behavior JSON');

const memoryBytes = Number(values['memory-bytes']);
if (!Number.isSafeInteger(memoryBytes) || memoryBytes <= 0) fail('InvalidArgument', `bad --memory-bytes ${values['memory-bytes']}`);
let behavior: GuestBehavior;
try {
  behavior = JSON.parse(values.behavior) as GuestBehavior;
} catch {
  fail('InvalidArgument', '--behavior is not JSON');
}

if (values['await-restore'] && values.restore) {
  // the process and its modules are up while the memory is still on its way: the guest's pause is only the restore
  const image = values.restore;
  const outcome = await new Promise<'ready' | 'cancelled'>((resolve) => {
    const look = (): void => {
      if (existsSync(image)) resolve('ready');
      else if (existsSync(cancelMarker(image))) resolve('cancelled');
      else setTimeout(look, 5);
    };
    look();
  });
  if (outcome === 'cancelled') fail('Cancelled', 'the incoming migration was cancelled');
}

const runtime = new GuestRuntime({
  name: values.name,
  uuid: values.uuid,
  memoryBytes,
  monitorPath: values.monitor,
  behavior,
  ...(values.restore ? { restoreFile: values.restore } : {}),
  bypassCache: values['bypass-cache'],
  startPaused: values.paused,
  ...(values['tick-ms'] ? { tickMs: Number(values['tick-ms']) } : {}),
});
process.on('SIGTERM', () => runtime.onTerminate());
process.on('SIGINT', () => runtime.onTerminate());
process.on('SIGHUP', () => undefined); // no controlling terminal to lose; stay up

try {
  await runtime.start();
  ready({ ready: true, pid: process.pid, restored: values.restore !== undefined });
} catch (err) {
  fail(err instanceof ImageError ? 'ImageError' : 'GenericError', (err as Error).message);
}
