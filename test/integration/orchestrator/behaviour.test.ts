// libvirt-guests against real guestd processes: the improvements over the original, each shown on real guests.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { GuestStatusResult, StartResult, StopResult } from '../../../src/orchestrator/result.js';
import { runGuests } from '../../helpers/cli.js';
import { cleanupAllGuestd, startGuestd, waitFor } from '../../helpers/guestd.js';
import { RUNNING_RESTORED, SHUTOFF_SAVED, startFleet } from '../../helpers/fleet.js';
import { repoPath } from '../../helpers/repo.js';
import { parseResult } from '../../helpers/result-schema.js';

after(cleanupAllGuestd);

test('8 stuck guests, PARALLEL_SHUTDOWN=4, SHUTDOWN_TIMEOUT=10: all 8 are asked, and stop ends with the budget', async () => {
  const fleet = await startFleet({ stuck: 8 });
  try {
    fleet.configure({ ON_SHUTDOWN: 'shutdown', PARALLEL_SHUTDOWN: 4, SHUTDOWN_TIMEOUT: 10, CONNECT_RETRIES: 0 });
    const run = await runGuests(['stop', '--json'], fleet.sb.env);
    const result = parseResult(StopResult, run);
    assert.equal(run.exitCode, 1, 'guests still running: failure');
    assert.ok(result.durationMs <= 11_000, `stop took ${result.durationMs} ms: the budget is one per URI`);
    assert.match(run.stderr, /Timeout expired while shutting down domains/);
    for (const g of fleet.guests) {
      assert.match(fleet.guestLog(g.name), /shutdown requested/, `${g.name} was asked to shut down`);
      assert.equal((await fleet.state(g.name)) !== 'gone' && ((await fleet.state(g.name)) as { state: string }).state, 'running');
    }
    assert.deepEqual(result.uris[0]!.guests.map((g) => g.outcome), Array(8).fill('timeout'));
  } finally {
    await fleet.close();
  }
});

test('the same with FALLBACK=1: every guest is off at the end, through destroy', async () => {
  const fleet = await startFleet({ stuck: 8 });
  try {
    fleet.configure({ ON_SHUTDOWN: 'shutdown', PARALLEL_SHUTDOWN: 4, SHUTDOWN_TIMEOUT: 10, FALLBACK: 1, CONNECT_RETRIES: 0 });
    const run = await runGuests(['stop', '--json'], fleet.sb.env);
    const result = parseResult(StopResult, run);
    assert.equal(run.exitCode, 0, run.stderr);
    for (const g of fleet.guests) {
      const s = await fleet.state(g.name);
      assert.equal(s !== 'gone' && s.state, 'shutoff', g.name);
    }
    for (const g of result.uris[0]!.guests) {
      assert.equal(g.outcome, 'done');
      assert.deepEqual(g.fallback, ['destroy']);
      assert.equal(g.finalAction, 'destroy');
    }
  } finally {
    await fleet.close();
  }
});

test('a failed save falls back to shutdown with FALLBACK=1 (transient guest, PERSISTENT_ONLY=false)', async () => {
  const fleet = await startFleet({ plain: 1, transient: 1 });
  try {
    fleet.configure({ PERSISTENT_ONLY: 'false', FALLBACK: 1, SHUTDOWN_TIMEOUT: 10, CONNECT_RETRIES: 0 });
    const result = parseResult(StopResult, await runGuests(['stop', '--json'], fleet.sb.env));
    assert.equal(result.exit, 0);
    const transient = result.uris[0]!.guests.find((g) => g.name === 'transient1')!;
    assert.deepEqual([transient.outcome, transient.finalAction, transient.fallback], ['done', 'shutdown', ['shutdown']]);
    assert.equal(await fleet.state('transient1'), 'gone');
    assert.deepEqual(await fleet.state('plain1'), { state: 'shutoff', reason: SHUTOFF_SAVED });
  } finally {
    await fleet.close();
  }
});

test('a leftover list from a stop never followed by a start is merged, not a silent no-op', async () => {
  const fleet = await startFleet({ plain: 2 });
  try {
    const [a, b] = fleet.guests as [(typeof fleet.guests)[0], (typeof fleet.guests)[0]];
    fleet.configure({ CONNECT_RETRIES: 0 });
    // a list from an earlier stop: guest a, and a guest on another host
    const other = 'qemu+tls://elsewhere/system 11111111-2222-3333-4444-555555555555';
    await import('node:fs').then((fs) => fs.writeFileSync(fleet.sb.listFile, `${fleet.guestd.uri} ${a.uuid}\n${other}\n`));
    const result = parseResult(StopResult, await runGuests(['stop', '--json'], fleet.sb.env));
    assert.equal(result.exit, 0);
    assert.equal(result.carriedOver, 2);
    for (const name of [a.name, b.name]) assert.deepEqual(await fleet.state(name), { state: 'shutoff', reason: SHUTOFF_SAVED });
    const list = readFileSync(fleet.sb.listFile, 'utf8');
    assert.equal(list, `${fleet.guestd.uri} ${a.uuid} ${b.uuid}\n${other}\n`);
  } finally {
    await fleet.close();
  }
});

test('--dry-run prints the plan and touches nothing', async () => {
  const fleet = await startFleet({ plain: 2 });
  try {
    fleet.configure({ CONNECT_RETRIES: 0 });
    const run = await runGuests(['stop', '--dry-run'], fleet.sb.env);
    assert.equal(run.exitCode, 0, run.stderr);
    assert.match(run.stdout, /Dry run: nothing was changed/);
    assert.match(run.stdout, /would suspend plain1/);
    assert.equal(existsSync(fleet.sb.listFile), false);
    for (const g of fleet.guests) assert.equal(((await fleet.state(g.name)) as { state: string }).state, 'running');
    const json1 = parseResult(StopResult, await runGuests(['shutdown', '--dry-run', '--json'], fleet.sb.env));
    assert.deepEqual(json1.uris[0]!.guests.map((g) => [g.action, g.outcome]), [['shutdown', 'planned'], ['shutdown', 'planned']]);
  } finally {
    await fleet.close();
  }
});

test('--dry-run with a malformed leftover list says it would move it aside, and moves nothing', async () => {
  const fleet = await startFleet({ plain: 1 });
  try {
    fleet.configure({ CONNECT_RETRIES: 0 });
    const { writeFileSync, readdirSync } = await import('node:fs');
    writeFileSync(fleet.sb.listFile, 'garbage\n');
    const run = await runGuests(['stop', '--dry-run'], fleet.sb.env);
    assert.equal(run.exitCode, 0, run.stderr);
    assert.match(run.stderr, /could not be read \(.*"garbage" is not a libvirt URI\); a stop would move it to .*\.malformed-/);
    assert.doesNotMatch(run.stderr, /it was moved/);
    assert.equal(readFileSync(fleet.sb.listFile, 'utf8'), 'garbage\n');
    assert.deepEqual(readdirSync(fleet.sb.dir).filter((f) => f.includes('malformed')), []);
  } finally {
    await fleet.close();
  }
});

test('restart --dry-run plans the start from the guests its stop would record (and the leftover list)', async () => {
  const fleet = await startFleet({ plain: 2, transient: 1 });
  try {
    fleet.configure({ CONNECT_RETRIES: 0 });
    const { writeFileSync } = await import('node:fs');
    const other = 'qemu+tls://elsewhere/system 11111111-2222-3333-4444-555555555555';
    writeFileSync(fleet.sb.listFile, `${other}\n`);
    const { RestartResult } = await import('../../../src/orchestrator/result.js');
    const run = await runGuests(['restart', '--dry-run', '--json'], fleet.sb.env);
    const result = parseResult(RestartResult, run);
    assert.equal(run.exitCode, 0, run.stderr);
    assert.equal(result.start!.skippedReason, undefined, 'not "no saved guests to resume"');
    const planned = result.start!.uris.flatMap((u) => u.guests.map((g) => [u.uri, g.name || g.uuid, g.outcome]));
    assert.deepEqual(planned, [
      ['qemu+tls://elsewhere/system', '11111111-2222-3333-4444-555555555555', 'skipped'],
      [fleet.guestd.uri, 'plain1', 'planned'],
      [fleet.guestd.uri, 'plain2', 'planned'],
    ]);
    assert.equal(readFileSync(fleet.sb.listFile, 'utf8'), `${other}\n`, 'nothing changed');
    const text = await runGuests(['restart', '--dry-run'], fleet.sb.env);
    assert.match(text.stdout, /would suspend plain1[\s\S]*would resume plain1/);
  } finally {
    await fleet.close();
  }
});

test('START_DELAY spaces the starts; SYNC_TIME syncs clocks and reports a guest without agent without failing', async () => {
  const fleet = await startFleet({ agent: 1, plain: 1 });
  try {
    fleet.configure({ CONNECT_RETRIES: 0, START_DELAY: 1, SYNC_TIME: 1 });
    assert.equal((await runGuests(['stop'], fleet.sb.env)).exitCode, 0);
    const run = await runGuests(['start', '--json'], fleet.sb.env);
    const result = parseResult(StartResult, run);
    assert.equal(run.exitCode, 0, run.stderr);
    const byName = Object.fromEntries(result.uris[0]!.guests.map((g) => [g.name, g]));
    assert.equal(byName.agent1!.timeSync, 'done');
    assert.equal(byName.plain1!.timeSync, 'failed');
    assert.match(run.stderr, /Could not set the time of guest plain1/);
    for (const name of ['agent1', 'plain1']) assert.deepEqual(await fleet.state(name), { state: 'running', reason: RUNNING_RESTORED });
  } finally {
    await fleet.close();
  }
});

test('a URI that is down during start keeps its line; a later start restores its guests', async () => {
  const fleet = await startFleet({ plain: 2 });
  const second = await startGuestd();
  try {
    const { writeFileSync } = await import('node:fs');
    const xml = (await import('../../helpers/virsh.js')).guestXml('other1', { 'shutdown-seconds': 0 });
    writeFileSync(`${second.dir}/other1.xml`, xml);
    const { virsh } = await import('../../helpers/virsh.js');
    assert.equal((await virsh(second.uri, 'define', `${second.dir}/other1.xml`)).code, 0);
    assert.equal((await virsh(second.uri, 'start', 'other1')).code, 0);
    const uris = `'${fleet.guestd.uri} ${second.uri}'`;
    fleet.configure({ URIS: uris, CONNECT_RETRIES: 0 });
    assert.equal((await runGuests(['stop'], fleet.sb.env)).exitCode, 0);
    await second.stop(); // its guest is saved: nothing runs there

    const down = await runGuests(['start', '--json'], fleet.sb.env);
    const downResult = parseResult(StartResult, down);
    assert.equal(down.exitCode, 1, 'an unreachable URI is a failure');
    assert.match(down.stderr, /Can't connect to .*guestd-sock\. Skipping\. Its guests stay in the list/);
    assert.equal(downResult.remaining, 1);
    const kept = readFileSync(fleet.sb.listFile, 'utf8').split('\n');
    assert.equal(kept.length, 2, 'one line, newline-terminated');
    const [uri, uuid, ...rest] = kept[0]!.split(' ');
    assert.deepEqual([uri, rest], [second.uri, []]);
    assert.match(uuid!, /^[0-9a-f-]{36}$/);
    for (const g of fleet.guests) assert.equal(((await fleet.state(g.name)) as { state: string }).state, 'running');

    await startGuestd({ dir: second.dir });
    const up = await runGuests(['start'], fleet.sb.env);
    assert.equal(up.exitCode, 0, up.stderr);
    assert.equal(existsSync(fleet.sb.listFile), false);
    const check = await virsh(second.uri, 'domstate', '--reason', 'other1');
    assert.match(check.stdout, /running \(restored\)/);
  } finally {
    await fleet.close();
  }
});

test('two concurrent stops: each guest is saved exactly once', async () => {
  const fleet = await startFleet({ plain: 4 });
  try {
    fleet.configure({ CONNECT_RETRIES: 0 });
    const [one, two] = await Promise.all([runGuests(['stop', '--json'], fleet.sb.env), runGuests(['stop', '--json'], fleet.sb.env)]);
    assert.equal(one.exitCode, 0, one.stderr);
    assert.equal(two.exitCode, 0, two.stderr);
    const saves = (fleet.guestd.stderr().match(/domain '(plain\d)': saved/g) ?? []).sort();
    assert.deepEqual(saves, ["domain 'plain1': saved", "domain 'plain2': saved", "domain 'plain3': saved", "domain 'plain4': saved"]);
    const done = [parseResult(StopResult, one), parseResult(StopResult, two)].flatMap((r) => r.uris[0]!.guests.filter((g) => g.outcome === 'done'));
    assert.equal(done.length, 4, 'four saves reported in all');
  } finally {
    await fleet.close();
  }
});

test('12 guests in one stop, saved or shut down all at once: no MaxListenersExceededWarning', async () => {
  const fleet = await startFleet({ plain: 12 });
  try {
    for (const config of [{ PARALLEL_SUSPEND: 12 }, { ON_SHUTDOWN: 'shutdown', PARALLEL_SHUTDOWN: 3 }] as Record<string, string | number>[]) {
      fleet.configure({ CONNECT_RETRIES: 0, ...config });
      const stop = await runGuests(['stop'], fleet.sb.env);
      assert.equal(stop.exitCode, 0, stop.stderr);
      assert.doesNotMatch(stop.stderr, /MaxListenersExceededWarning/, JSON.stringify(config));
      assert.equal((await runGuests(['start'], fleet.sb.env)).exitCode, 0);
    }
  } finally {
    await fleet.close();
  }
});

test('gueststatus lists the running guests per URI and exits 1 when a URI cannot be reached', async () => {
  const fleet = await startFleet({ plain: 2 });
  try {
    fleet.configure({ URIS: `'${fleet.guestd.uri} guest+unix:///system?socket=/nonexistent/sock'` });
    const run = await runGuests(['gueststatus'], fleet.sb.env);
    assert.equal(run.exitCode, 1);
    assert.match(run.stdout, /\* guest\+unix:\/\/\/system\?socket=.*guestd-sock URI:\n Id +Name +State\n-+\n +\d+ +plain1 +running\n +\d+ +plain2 +running/);
    assert.match(run.stdout, /\* guest\+unix:\/\/\/system\?socket=\/nonexistent\/sock URI:$/, 'the heading alone, as the original (an empty line follows)');
    assert.match(run.stderr, /Can't connect to guest\+unix:\/\/\/system\?socket=\/nonexistent\/sock/, 'the error goes to stderr');
    const result = parseResult(GuestStatusResult, await runGuests(['gueststatus', '--json'], fleet.sb.env));
    assert.deepEqual(result.uris.map((u) => [u.reachable, u.guests.length]), [[true, 2], [false, 0]]);
  } finally {
    await fleet.close();
  }
});

test('on a terminal, progress is drawn as listr2 tasks per URI and guest (under a pseudo-terminal)', async () => {
  const fleet = await startFleet({ slowsave: 2 }, 64);
  try {
    fleet.configure({ CONNECT_RETRIES: 0 });
    const { execFileSync } = await import('node:child_process');
    // script(1) gives the command a pseudo-terminal; stty gives it a size so lines are not folded
    const out = execFileSync('script', ['-qec', `stty cols 160 rows 50; ${process.execPath} ${repoPath('bin/run.js')} stop`, '/dev/null'], {
      env: { ...process.env, ...fleet.sb.env, TERM: 'xterm' },
    })
      .toString()
      .replace(/\u001b\[[0-9;?]*[A-Za-z]/g, ''); // eslint-disable-line no-control-regex
    assert.match(out, /✔ Suspending guests on guest\+unix:/);
    assert.match(out, /✔ slowsave1: done, 64\.\d{3} MiB/);
    assert.match(out, /› \d+\.\d{3} MiB \/ 64\.\d{3} MiB \(\d+%\)/, 'progress of a running save');
    assert.match(out, /stop: 2 suspended/);
    assert.doesNotMatch(out, /Suspending slowsave1: \.\.\./, 'no plain lines on a terminal');
  } finally {
    await fleet.close();
  }
});

test('under systemd, a stop reports STATUS= and asks for more time with EXTEND_TIMEOUT_USEC=', async (t) => {
  const { execFileSync, spawn: spawnChild } = await import('node:child_process');
  try {
    execFileSync('systemd-notify', ['--help'], { stdio: 'ignore' });
  } catch {
    if (process.env.CI === 'true') throw new Error('systemd-notify is missing in CI (package systemd)');
    t.skip('systemd-notify is not installed');
    return;
  }
  const fleet = await startFleet({ slowsave: 2 }, 64);
  const socket = `${fleet.sb.dir}/notify.sock`;
  // Node has no unix datagram sockets: a tiny receiver prints each datagram on a line
  const receiver = spawnChild('python3', [
    '-c',
    'import socket,sys\ns=socket.socket(socket.AF_UNIX,socket.SOCK_DGRAM)\ns.bind(sys.argv[1])\nprint("ready",flush=True)\n' +
      'while True:\n  print(s.recv(4096).decode().replace("\\n"," | "),flush=True)',
    socket,
  ]);
  let received = '';
  receiver.stdout.on('data', (d: Buffer) => (received += d.toString()));
  try {
    await waitFor('the receiver', () => received.includes('ready'));
    fleet.configure({ CONNECT_RETRIES: 0 });
    const run = await runGuests(['stop'], { ...fleet.sb.env, NOTIFY_SOCKET: socket });
    assert.equal(run.exitCode, 0, run.stderr);
    // systemd-notify has handed every message over before the stop exits; the receiver prints them as they come
    await waitFor('the notifications', () => /EXTEND_TIMEOUT_USEC=30000000/.test(received) && /STATUS=Suspending guests: \d+ of 2 done/.test(received));
  } finally {
    receiver.kill();
    await fleet.close();
  }
});

test('STOP_DEADLINE bounds the whole stop: unfinished saves are aborted, the guests keep running', async () => {
  const fleet = await startFleet({ slowsave: 4 }, 64); // 2 s per save at 32 MiB/s, one at a time: 8 s
  try {
    fleet.configure({ CONNECT_RETRIES: 0, PARALLEL_SUSPEND: 1, STOP_DEADLINE: 3 });
    const run = await runGuests(['stop', '--json'], fleet.sb.env);
    const result = parseResult(StopResult, run);
    assert.equal(run.exitCode, 1);
    assert.equal(result.deadlineExpired, true);
    assert.ok(result.durationMs < 6000, `took ${result.durationMs} ms`);
    assert.match(run.stderr, /The stop deadline of 3 seconds \(STOP_DEADLINE\) expired/);
    const outcomes = result.uris[0]!.guests.map((g) => g.outcome);
    assert.ok(outcomes.includes('aborted'), outcomes.join());
    for (const g of result.uris[0]!.guests) {
      const s = await fleet.state(g.name);
      if (g.outcome === 'done') assert.deepEqual(s, { state: 'shutoff', reason: SHUTOFF_SAVED }, g.name);
      else assert.equal(s !== 'gone' && s.state, 'running', `${g.name}: an aborted save leaves the guest running`);
    }
  } finally {
    await fleet.close();
  }
});

test('the virsh backend gives the same outcome as the native one (parallel shutdown, then start)', async () => {
  const fleet = await startFleet({ slow: 2, stuck: 1, plain: 1 });
  try {
    fleet.configure({ ON_SHUTDOWN: 'shutdown', PARALLEL_SHUTDOWN: 4, SHUTDOWN_TIMEOUT: 4, FALLBACK: 1, CONNECT_RETRIES: 0 });
    const env = { ...fleet.sb.env, LIBVIRT_GUESTS_BACKEND: 'virsh' };
    const stop = parseResult(StopResult, await runGuests(['stop', '--json'], env));
    assert.equal(stop.exit, 0);
    assert.equal(stop.uris[0]!.backend, 'virsh');
    const byName = Object.fromEntries(stop.uris[0]!.guests.map((g) => [g.name, g]));
    assert.deepEqual(byName.stuck1!.fallback, ['destroy']);
    for (const name of ['slow1', 'slow2', 'plain1']) assert.deepEqual([byName[name]!.outcome, byName[name]!.fallback], ['done', []], name);
    for (const g of fleet.guests) assert.equal(((await fleet.state(g.name)) as { state: string }).state, 'shutoff', g.name);
    const start = parseResult(StartResult, await runGuests(['start', '--json'], env));
    assert.equal(start.exit, 0);
    for (const g of fleet.guests) assert.equal(((await fleet.state(g.name)) as { state: string }).state, 'running', g.name);
  } finally {
    await fleet.close();
  }
});

test('a malformed leftover list does not keep tonight\'s guests from being saved: it is moved aside, never deleted', async () => {
  const fleet = await startFleet({ plain: 2 });
  try {
    fleet.configure({ CONNECT_RETRIES: 0 });
    const { writeFileSync, readdirSync } = await import('node:fs');
    writeFileSync(fleet.sb.listFile, 'qemu:///system not-a-uuid\n');
    const run = await runGuests(['stop'], fleet.sb.env);
    assert.equal(run.exitCode, 0, run.stderr);
    assert.match(run.stderr, /list of saved guests could not be read \(.*:1: "not-a-uuid" is not a guest UUID\); it was moved to /);
    const aside = readdirSync(fleet.sb.dir).filter((f) => f.startsWith('libvirt-guests.list.malformed-'));
    assert.equal(aside.length, 1);
    assert.equal(readFileSync(`${fleet.sb.dir}/${aside[0]}`, 'utf8'), 'qemu:///system not-a-uuid\n');
    for (const g of fleet.guests) assert.deepEqual(await fleet.state(g.name), { state: 'shutoff', reason: SHUTOFF_SAVED });
    // start, on the other hand, refuses a malformed list and keeps it
    writeFileSync(fleet.sb.listFile, 'garbage\n');
    const start = await runGuests(['start'], fleet.sb.env);
    assert.equal(start.exitCode, 1);
    assert.match(start.stderr, /libvirt-guests\.list:1: "garbage" is not a libvirt URI/);
    assert.equal(readFileSync(fleet.sb.listFile, 'utf8'), 'garbage\n');
  } finally {
    await fleet.close();
  }
});

test('a daemon that goes away during a shutdown wait with SHUTDOWN_TIMEOUT=0 ends the wait (no endless stop)', { timeout: 60_000 }, async () => {
  const fleet = await startFleet({ stuck: 1 });
  try {
    fleet.configure({ ON_SHUTDOWN: 'shutdown', SHUTDOWN_TIMEOUT: 0, CONNECT_RETRIES: 0 });
    const stopping = runGuests(['stop', '--json'], fleet.sb.env);
    await waitFor('the shutdown request', () => /shutdown requested/.test(fleet.guestLog('stuck1')));
    await fleet.guestd.stop(); // SIGTERM: the daemon exits, the guest keeps running
    const run = await stopping;
    const result = parseResult(StopResult, run);
    assert.equal(run.exitCode, 1);
    const g = result.uris[0]!.guests[0]!;
    assert.equal(g.outcome, 'failed');
    assert.match(g.error ?? '', /not tracking it any more/);
  } finally {
    await fleet.close();
  }
});

test('restart, condrestart and try-restart: stop then start; the conditional ones only when the service was started', async () => {
  const fleet = await startFleet({ plain: 2 });
  try {
    fleet.configure({ CONNECT_RETRIES: 0 });
    const { RestartResult } = await import('../../../src/orchestrator/result.js');
    for (const cmd of ['condrestart', 'try-restart']) {
      const idle = parseResult(RestartResult, await runGuests([cmd, '--json'], fleet.sb.env));
      assert.deepEqual([idle.exit, idle.ran], [0, false], `${cmd} without the lock file does nothing`);
      for (const g of fleet.guests) assert.deepEqual(await fleet.state(g.name), { state: 'running', reason: 1 }, `${cmd}: untouched`);
    }
    assert.equal((await runGuests(['start'], fleet.sb.env)).exitCode, 0); // no list: marks the service started
    for (const cmd of ['condrestart', 'try-restart', 'restart']) {
      const run = await runGuests([cmd, '--json'], fleet.sb.env);
      const result = parseResult(RestartResult, run);
      assert.deepEqual([run.exitCode, result.ran], [0, true], `${cmd}: ${run.stderr}`);
      assert.deepEqual(result.stop!.uris[0]!.guests.map((g) => g.outcome), ['done', 'done']);
      assert.deepEqual(result.start!.uris[0]!.guests.map((g) => g.outcome).sort(), ['done', 'done']);
      for (const g of fleet.guests) assert.deepEqual(await fleet.state(g.name), { state: 'running', reason: RUNNING_RESTORED }, `${cmd}: ${g.name}`);
      assert.equal(existsSync(`${fleet.sb.listFile}.lock`), false, 'the run lock is released');
    }
  } finally {
    await fleet.close();
  }
});
