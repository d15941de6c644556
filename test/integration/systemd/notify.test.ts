// What systemd receives from us, checked on a real datagram socket with the sender's credentials: messages come from
// our own process (as systemd must attribute them to the unit while the sender lives) and never claim MAINPID=,
// which systemd refuses from an ExecStop process; a stop's keep-alive never asks for time past STOP_DEADLINE.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { processStartTime } from '../../../src/effects/processes.js';
import { systemdSupervisor } from '../../../src/effects/sd-notify.js';
import { DEADLINE_GRACE_MS } from '../../../src/orchestrator/stop.js';
import { runGuests, sandbox } from '../../helpers/cli.js';
import { cleanupAllGuestd, startGuestd, waitFor } from '../../helpers/guestd.js';
import { startFleet } from '../../helpers/fleet.js';
import { notifyPrerequisite, notifySocket } from '../../helpers/notify-socket.js';

const missing = notifyPrerequisite();
if (missing && process.env.CI === 'true') throw new Error(`${missing} in CI (packages python3, systemd)`);
const dir = mkdtempSync(path.join(tmpdir(), 'lgt-notify-'));
before(() => missing && console.log(`# skipping: ${missing}`));
after(async () => {
  await cleanupAllGuestd();
  rmSync(dir, { recursive: true, force: true });
});

test('a notification is sent in our own name and claims no MAINPID=', { skip: missing ?? false }, async () => {
  const socket = await notifySocket(dir);
  try {
    const env: NodeJS.ProcessEnv = { NOTIFY_SOCKET: socket.path, PATH: process.env.PATH };
    const warnings: string[] = [];
    const supervisor = systemdSupervisor(env, (m) => warnings.push(m));
    assert.equal(env.NOTIFY_SOCKET, undefined, 'taken out of the environment our children inherit');
    supervisor.status('Suspending guests: 1 of 2 done');
    supervisor.extendTimeout(30_000);
    await waitFor('two messages', () => socket.messages.length === 2);
    assert.deepEqual(warnings, []);
    for (const m of socket.messages) {
      assert.equal(m.pid, process.pid, `sender of ${m.fields.join(' ')}`);
      assert.ok(!m.fields.some((f) => f.startsWith('MAINPID=')), m.fields.join(' '));
    }
    assert.deepEqual(socket.messages.map((m) => m.fields).flat().sort(), ['EXTEND_TIMEOUT_USEC=30000000', 'STATUS=Suspending guests: 1 of 2 done']);
  } finally {
    socket.close();
  }
});

test('with STOP_DEADLINE the keep-alive asks systemd for no more than the deadline plus the grace', { skip: missing ?? false }, async () => {
  const fleet = await startFleet({ slowsave: 1 }, 64); // 2 s to save
  const socket = await notifySocket(fleet.sb.dir);
  try {
    fleet.configure({ CONNECT_RETRIES: 0, STOP_DEADLINE: 5 });
    const run = await runGuests(['stop'], { ...fleet.sb.env, NOTIFY_SOCKET: socket.path });
    assert.equal(run.exitCode, 0, run.stderr);
    await waitFor('the keep-alive', () => socket.messages.some((m) => m.fields.some((f) => f.startsWith('EXTEND_TIMEOUT_USEC='))));
    const asked = socket.messages.flatMap((m) => m.fields).filter((f) => f.startsWith('EXTEND_TIMEOUT_USEC=')).map((f) => Number(f.split('=')[1]));
    const limitUs = (5_000 + DEADLINE_GRACE_MS) * 1000;
    for (const us of asked) assert.ok(us > 0 && us <= limitUs, `asked for ${us} µs, more than STOP_DEADLINE + grace (${limitUs} µs)`);
  } finally {
    socket.close();
    await fleet.close();
  }
});

test('while a stop waits for another run to finish, systemd is kept from killing it', { skip: missing ?? false }, async () => {
  const sb = sandbox('CONNECT_RETRIES=0\nLOCK_TIMEOUT=2\n');
  const socket = await notifySocket(sb.dir);
  try {
    // the run lock is held by a live process: this one
    writeFileSync(`${sb.listFile}.lock`, `${process.pid} ${processStartTime(process.pid)}\n`);
    const run = await runGuests(['stop'], { ...sb.env, NOTIFY_SOCKET: socket.path });
    assert.equal(run.exitCode, 1, run.stderr);
    assert.match(run.stderr, new RegExp(`${process.pid}`), 'names the holder');
    await waitFor('the keep-alive', () => socket.messages.some((m) => m.fields.some((f) => f.startsWith('EXTEND_TIMEOUT_USEC='))));
  } finally {
    socket.close();
    rmSync(sb.dir, { recursive: true, force: true });
  }
});

test("guestd's READY=1 and STOPPING=1 come from guestd itself, and it waits for STOPPING=1 to be read before exiting", { skip: missing ?? false }, async () => {
  const socket = await notifySocket(dir, 300);
  try {
    const guestd = await startGuestd({ env: { NOTIFY_SOCKET: socket.path } });
    await waitFor('READY=1', () => socket.messages.some((m) => m.fields.includes('READY=1')));
    await guestd.stop();
    const stopping = socket.messages.find((m) => m.fields.includes('STOPPING=1'));
    assert.ok(stopping, 'STOPPING=1 was read before guestd exited');
    for (const m of socket.messages) {
      assert.equal(m.pid, guestd.child.pid, `sender of ${m.fields.join(' ')}`);
      assert.ok(m.alive, `${m.fields.join(' ')}: its sender still lived when it was read`);
    }
  } finally {
    socket.close();
  }
});
