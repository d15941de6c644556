// guestd with many domains, through the RPC of a real guestd: defines answered only once durable (group commit) survive
// a kill -9; a restart takes parsed definitions from the index only for files it still describes; every state and
// persistence in one CONNECT_GET_ALL_DOMAIN_STATS call, as our client's listGuests asks for it.
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { openConnection } from '../../../src/connect/index.js';
import type { NativeConnection } from '../../../src/connect/native.js';
import { LibvirtError, VirErr } from '../../../src/libvirt/error.js';
import { DomainStats, GetAllDomainStatsFlags as SF } from '../../../src/remote/enums.js';
import { PROC } from '../../../src/remote/protocol.js';
import { typedParamsToRecord } from '../../../src/remote/types.js';
import { cleanupAllGuestd, startGuestd } from '../../helpers/guestd.js';
import { guestXml } from '../../helpers/virsh.js';

after(cleanupAllGuestd);

const native = async (uri: string): Promise<NativeConnection> =>
  (await openConnection(uri, { backend: 'native' })) as NativeConnection;
const tag = `md${process.pid}`;

describe('guestd with many domains', () => {
  it('300 concurrent defines, kill -9 right after the last answer: every one is there after the restart', async () => {
    const gd = await startGuestd();
    const conns = await Promise.all(Array.from({ length: 6 }, () => native(gd.uri)));
    const names = Array.from({ length: 300 }, (_, i) => `${tag}-k${i}`);
    const defined = await Promise.all(
      names.map((name, i) => conns[i % conns.length]!.remote.call(PROC.DOMAIN_DEFINE_XML, { xml: guestXml(name, {}, 1) })),
    );
    gd.child.kill('SIGKILL');
    await gd.exited;
    await Promise.all(conns.map((c) => c.close().catch(() => undefined)));
    const again = await startGuestd({ dir: gd.dir });
    const c = await native(again.uri);
    const { domains } = await c.remote.call(PROC.CONNECT_LIST_ALL_DOMAINS, { need_results: 1, flags: 0 });
    assert.deepEqual(
      domains.map((d) => `${d.name} ${d.uuid}`).sort(),
      defined.map(({ dom }) => `${dom.name} ${dom.uuid}`).sort(),
    );
    await c.close();
    await again.cleanup();
  });

  it('a restart takes a definition from the index only while the file still holds what the index says', async () => {
    const gd = await startGuestd();
    let c = await native(gd.uri);
    for (let i = 0; i < 20; i++) await c.remote.call(PROC.DOMAIN_DEFINE_XML, { xml: guestXml(`${tag}-i${i}`, {}, 1) });
    await c.close();
    await gd.stop(); // writes the index
    const index = path.join(gd.stateDir, 'domains.index.json');
    assert.equal(Object.keys(JSON.parse(readFileSync(index, 'utf8')).configs).length, 20);
    // edited by hand while the daemon was down: 1 MiB becomes 3 MiB
    const file = path.join(gd.stateDir, 'domains', `${tag}-i7.xml`);
    writeFileSync(file, readFileSync(file, 'utf8').replace(/<memory unit='KiB'>1024</, "<memory unit='KiB'>3072<").replace(/<currentMemory unit='KiB'>1024</, "<currentMemory unit='KiB'>3072<"));
    let again = await startGuestd({ dir: gd.dir });
    c = await native(again.uri);
    const info = async (name: string) =>
      c.remote.call(PROC.DOMAIN_GET_INFO, { dom: (await c.remote.call(PROC.DOMAIN_LOOKUP_BY_NAME, { name })).dom });
    assert.equal((await info(`${tag}-i7`)).maxMem, 3072n, 'the edited file, not the index');
    assert.equal((await info(`${tag}-i8`)).maxMem, 1024n);
    await c.close();
    await again.stop();
    // without an index (or with a broken one) every file is parsed
    writeFileSync(index, '{ broken');
    again = await startGuestd({ dir: gd.dir });
    c = await native(again.uri);
    assert.equal((await c.remote.call(PROC.CONNECT_LIST_ALL_DOMAINS, { need_results: 0, flags: 0 })).ret, 20);
    assert.equal((await info(`${tag}-i7`)).maxMem, 3072n);
    await c.close();
    await again.stop();
    rmSync(index);
    again = await startGuestd({ dir: gd.dir });
    c = await native(again.uri);
    assert.equal((await c.remote.call(PROC.CONNECT_LIST_ALL_DOMAINS, { need_results: 0, flags: 0 })).ret, 20);
    await c.close();
    await again.cleanup();
  });

  it('CONNECT_GET_ALL_DOMAIN_STATS: state and reason of every domain in one call, filtered as lists are', async () => {
    const gd = await startGuestd();
    const c = await native(gd.uri);
    const { dom: off } = await c.remote.call(PROC.DOMAIN_DEFINE_XML, { xml: guestXml(`${tag}-off`, {}, 1) });
    const { dom: on } = await c.remote.call(PROC.DOMAIN_DEFINE_XML, { xml: guestXml(`${tag}-on`, {}, 1) });
    await c.remote.call(PROC.DOMAIN_CREATE, { dom: on });
    const { dom: transient } = await c.remote.call(PROC.DOMAIN_CREATE_XML, { xml_desc: guestXml(`${tag}-tr`, {}, 1), flags: 0 });
    const stats = async (flags: number, s: number = DomainStats.STATE) =>
      Object.fromEntries(
        (await c.remote.call(PROC.CONNECT_GET_ALL_DOMAIN_STATS, { doms: [], stats: s, flags })).retStats.map((r) => [
          r.dom.name,
          typedParamsToRecord(r.params),
        ]),
      );
    assert.deepEqual(await stats(0), {
      [`${tag}-off`]: { 'state.state': 5, 'state.reason': 0 },
      [`${tag}-on`]: { 'state.state': 1, 'state.reason': 1 },
      [`${tag}-tr`]: { 'state.state': 1, 'state.reason': 1 },
    });
    assert.deepEqual(Object.keys(await stats(SF.ACTIVE | SF.PERSISTENT)), [`${tag}-on`]);
    assert.deepEqual(Object.keys(await stats(SF.SHUTOFF)), [`${tag}-off`]);
    assert.deepEqual(Object.keys(await stats(SF.TRANSIENT)), [`${tag}-tr`]);
    const balloon = (await stats(SF.INACTIVE, DomainStats.BALLOON))[`${tag}-off`];
    assert.deepEqual(balloon, { 'balloon.current': 1024n, 'balloon.maximum': 1024n });
    // groups guestd does not know are left out, or refused when the caller insists (ENFORCE_STATS)
    assert.deepEqual(Object.keys((await stats(SF.INACTIVE, DomainStats.STATE | 32))[`${tag}-off`]!), ['state.state', 'state.reason']);
    await assert.rejects(stats(SF.ENFORCE_STATS, 32), (err: unknown) => err instanceof LibvirtError && err.virCode === VirErr.ARGUMENT_UNSUPPORTED);
    // named domains
    const named = await c.remote.call(PROC.CONNECT_GET_ALL_DOMAIN_STATS, { doms: [off], stats: DomainStats.STATE, flags: 0 });
    assert.deepEqual(named.retStats.map((r) => r.dom.name), [`${tag}-off`]);

    // our client's list: the same states and persistence as asking guest by guest
    const guests = await c.listGuests({ which: 'all' });
    const byName = Object.fromEntries(guests.map((g) => [g.name, { state: g.state, persistent: g.persistent }]));
    assert.deepEqual(byName, {
      [`${tag}-off`]: { state: 'shutoff', persistent: true },
      [`${tag}-on`]: { state: 'running', persistent: true },
      [`${tag}-tr`]: { state: 'running', persistent: false },
    });
    for (const g of guests) assert.equal((await c.state(g)).state, g.state);
    assert.deepEqual((await c.listGuests({ which: 'active', persistence: 'transient' })).map((g) => g.name), [`${tag}-tr`]);
    await c.remote.call(PROC.DOMAIN_DESTROY, { dom: transient });
    await c.remote.call(PROC.DOMAIN_DESTROY, { dom: on });
    await c.close();
    await gd.cleanup();
  });
});
