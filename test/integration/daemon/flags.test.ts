// guestd's procedures refuse flag bits they do not understand, as libvirtd's virCheckFlags does, and honour the ones
// they do: checked through the RPC against a real guestd with process guests.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SUPPORTED_FLAGS, type FlaggedProc } from '../../../src/daemon/flags.js';
import type { RemoteClient } from '../../../src/remote/client.js';
import { LibvirtError, VirErr } from '../../../src/libvirt/error.js';
import {
  DestroyFlags,
  MetadataType,
  ModificationImpact,
  SaveFlags,
  StartFlags,
  UndefineFlags,
  XmlFlags,
} from '../../../src/remote/enums.js';
import { PROC } from '../../../src/remote/protocol.js';
import type { RemoteDomain } from '../../../src/remote/types.js';
import { callFlagged, FLAGGED_PROCS, remoteClient } from '../../helpers/flagged-calls.js';
import { cleanupAllGuestd, startGuestd, waitFor, type GuestdInstance } from '../../helpers/guestd.js';
import { guestXml } from '../../helpers/virsh.js';

const isVir = (code: number, re?: RegExp) => (err: unknown) => {
  assert.ok(err instanceof LibvirtError, `expected a libvirt error, got ${String(err)}`);
  assert.equal(err.virCode, code, err.message);
  if (re) assert.match(err.message, re);
  return true;
};

/** the function libvirt would name, written out for a few (the rest follow the same rule) */
const FUNCTIONS: Partial<Record<FlaggedProc, string>> = {
  CONNECT_OPEN: 'processConnectOpen',
  CONNECT_LIST_ALL_DOMAINS: 'processConnectListAllDomains',
  DOMAIN_GET_XML_DESC: 'processDomainGetXMLDesc',
  DOMAIN_DEFINE_XML_FLAGS: 'processDomainDefineXMLFlags',
  DOMAIN_SHUTDOWN_FLAGS: 'processDomainShutdownFlags',
  DOMAIN_MANAGED_SAVE: 'processDomainManagedSave',
};

describe('guestd refuses unknown flag bits (virCheckFlags)', () => {
  let gd: GuestdInstance;
  let c: RemoteClient;
  let dom: RemoteDomain;
  before(async () => {
    gd = await startGuestd();
    c = await remoteClient(gd.rwSocket);
    ({ dom } = await c.call(PROC.DOMAIN_DEFINE_XML, { xml: guestXml('flagged', { 'shutdown-seconds': 0 }) }));
    ({ dom } = await c.call(PROC.DOMAIN_CREATE_WITH_FLAGS, { dom, flags: 0 }));
  });
  after(async () => {
    await c.rpc.close();
    await cleanupAllGuestd();
  });

  it('every procedure: the bits outside what it understands, named in hex with the function, and nothing done', async () => {
    for (const proc of FLAGGED_PROCS) {
      const supported = SUPPORTED_FLAGS[proc];
      let lowest = 1;
      while (supported & lowest) lowest <<= 1;
      // and the highest bit, unless the procedure understands it (ENFORCE_STATS)
      const unknown = (lowest | (0x80000000 & ~supported)) >>> 0;
      // a client with a connection of its own: CONNECT_OPEN is refused before the connection opens
      const client = proc === 'CONNECT_OPEN' ? await remoteClient(gd.rwSocket, false) : c;
      const fn = FUNCTIONS[proc] ?? 'process[A-Z][A-Za-z0-9]+'; // digits: processDomainMigrateBegin3Params
      await assert.rejects(
        callFlagged(client, proc, dom, supported | unknown),
        isVir(VirErr.INVALID_ARG, new RegExp(`^unsupported flags \\(0x${unknown.toString(16)}\\) in function ${fn}$`)),
        proc,
      );
      if (client !== c) {
        await assert.rejects(client.call(PROC.CONNECT_GET_TYPE), /connection not open/, 'the refused open opened nothing');
        await client.rpc.close();
      }
    }
    const { domains } = await c.call(PROC.CONNECT_LIST_ALL_DOMAINS, { need_results: 1, flags: 0 });
    assert.deepEqual(domains.map((d) => d.name), ['flagged'], 'nothing defined, created or undefined');
    assert.deepEqual(await c.call(PROC.DOMAIN_GET_STATE, { dom, flags: 0 }), { state: 1, reason: 1 }, 'still running, as booted');
    await assert.rejects(callFlagged(c, 'DOMAIN_GET_METADATA', dom, 0), isVir(VirErr.NO_DOMAIN_METADATA));
  });

  it('asks that a process guest cannot honour are refused too: autodestroy, shutdown modes, removing logs', async () => {
    const unsupported = (fn: string, bit: number) => isVir(VirErr.INVALID_ARG, new RegExp(`\\(0x${bit.toString(16)}\\) in function ${fn}$`));
    await assert.rejects(
      c.call(PROC.DOMAIN_CREATE_XML, { xml_desc: guestXml('auto'), flags: StartFlags.AUTODESTROY }),
      unsupported('processDomainCreateXML', StartFlags.AUTODESTROY),
    );
    for (const mode of [2, 4, 8, 16]) // guest agent, initctl, signal, paravirt
      await assert.rejects(c.call(PROC.DOMAIN_SHUTDOWN_FLAGS, { dom, flags: mode }), unsupported('processDomainShutdownFlags', mode));
    await assert.rejects(
      c.call(PROC.DOMAIN_DESTROY_FLAGS, { dom, flags: DestroyFlags.REMOVE_LOGS }),
      unsupported('processDomainDestroyFlags', DestroyFlags.REMOVE_LOGS),
    );
    // SAVE_RUNNING and SAVE_PAUSED are honoured, but not both at once (libvirt's client library refuses that first)
    await assert.rejects(
      c.call(PROC.DOMAIN_MANAGED_SAVE, { dom, flags: SaveFlags.RUNNING | SaveFlags.PAUSED }),
      isVir(VirErr.INVALID_ARG, /^Flags 'VIR_DOMAIN_SAVE_RUNNING' and 'VIR_DOMAIN_SAVE_PAUSED' are mutually exclusive$/),
    );
    assert.equal((await c.call(PROC.DOMAIN_GET_STATE, { dom, flags: 0 })).state, 1, 'still running');
  });
});

describe('guestd honours the flags it understands', () => {
  let gd: GuestdInstance;
  let c: RemoteClient;
  before(async () => {
    gd = await startGuestd();
    c = await remoteClient(gd.rwSocket);
  });
  after(async () => {
    await c.rpc.close();
    await cleanupAllGuestd();
  });
  const define = async (name: string, behavior: Record<string, string | number> = {}) =>
    (await c.call(PROC.DOMAIN_DEFINE_XML_FLAGS, { xml: guestXml(name, { 'shutdown-seconds': 0, ...behavior }), flags: 1 })).dom;
  const start = async (dom: RemoteDomain) => (await c.call(PROC.DOMAIN_CREATE_WITH_FLAGS, { dom, flags: StartFlags.RESET_NVRAM })).dom;
  const title = async (dom: RemoteDomain, flags: number) =>
    (await c.call(PROC.DOMAIN_GET_METADATA, { dom, type: MetadataType.TITLE, uri: null, flags })).metadata;
  const setTitle = (dom: RemoteDomain, value: string, flags: number) =>
    c.call(PROC.DOMAIN_SET_METADATA, { dom, type: MetadataType.TITLE, metadata: value, key: null, uri: null, flags });
  const { LIVE, CONFIG, CURRENT } = ModificationImpact;

  it('metadata: live, config, or current (the live definition of a running guest, else the config)', async () => {
    let dom = await define('meta');
    await setTitle(dom, 'off', CURRENT); // shut off: the config
    assert.equal(await title(dom, CONFIG), 'off');
    await assert.rejects(setTitle(dom, 'x', LIVE), isVir(VirErr.OPERATION_INVALID, /domain is not running/));
    dom = await start(dom);
    await setTitle(dom, 'live', LIVE);
    await setTitle(dom, 'config', CONFIG);
    assert.equal(await title(dom, LIVE), 'live');
    assert.equal(await title(dom, CONFIG), 'config');
    assert.equal(await title(dom, CURRENT), 'live', 'current is the running definition');
    await setTitle(dom, 'now', CURRENT);
    assert.equal(await title(dom, CONFIG), 'config', 'current changes only the running definition');
    await setTitle(dom, 'both', LIVE | CONFIG);
    assert.deepEqual([await title(dom, LIVE), await title(dom, CONFIG)], ['both', 'both']);
    await assert.rejects(title(dom, LIVE | CONFIG), isVir(VirErr.INVALID_ARG, /mutually exclusive/));
    await assert.rejects(
      c.call(PROC.DOMAIN_GET_METADATA, { dom, type: 7, uri: null, flags: 0 }),
      isVir(VirErr.INVALID_ARG, /unknown metadata type 7/),
    );
    const transient = (await c.call(PROC.DOMAIN_CREATE_XML, { xml_desc: guestXml('fleeting'), flags: StartFlags.VALIDATE })).dom;
    await assert.rejects(setTitle(transient, 'x', CONFIG), isVir(VirErr.OPERATION_INVALID, /transient domains do not have any persistent config/));
    await c.call(PROC.DOMAIN_DESTROY_FLAGS, { dom: transient, flags: 0 });
    await c.call(PROC.DOMAIN_DESTROY_FLAGS, { dom, flags: 0 });
  });

  it('XML: inactive is the config without the id; secure is refused on a read-only connection', async () => {
    const dom = await start(await define('xml'));
    const xml = (flags: number, client = c) => client.call(PROC.DOMAIN_GET_XML_DESC, { dom, flags }).then((r) => r.xml);
    assert.match(await xml(0), new RegExp(`<domain type='process' id='${dom.id}'>`));
    assert.match(await xml(XmlFlags.INACTIVE), /^<domain type='process'>/);
    assert.match(await xml(XmlFlags.SECURE | XmlFlags.UPDATE_CPU | XmlFlags.MIGRATABLE), /<name>xml<\/name>/);
    const ro = await remoteClient(gd.roSocket);
    try {
      assert.match(await xml(XmlFlags.INACTIVE, ro), /<name>xml<\/name>/);
      for (const flag of [XmlFlags.SECURE, XmlFlags.MIGRATABLE])
        await assert.rejects(xml(flag, ro), isVir(VirErr.OPERATION_DENIED, /virDomainGetXMLDesc with secure flag/));
    } finally {
      await ro.rpc.close();
    }
    await c.call(PROC.DOMAIN_DESTROY_FLAGS, { dom, flags: 0 });
  });

  it('destroy --graceful ends a guest that heeds SIGTERM; save --running; undefine keeping NVRAM and TPM', async () => {
    let dom = await start(await define('grace'));
    await c.call(PROC.DOMAIN_DESTROY_FLAGS, { dom, flags: DestroyFlags.GRACEFUL });
    assert.deepEqual(await c.call(PROC.DOMAIN_GET_STATE, { dom, flags: 0 }), { state: 5, reason: 2 }, 'shut off, destroyed');
    dom = await start(dom);
    await c.call(PROC.DOMAIN_MANAGED_SAVE, { dom, flags: SaveFlags.RUNNING | SaveFlags.BYPASS_CACHE });
    await waitFor('saved', async () => (await c.call(PROC.DOMAIN_HAS_MANAGED_SAVE_IMAGE, { dom, flags: 0 })).result === 1);
    await c.call(PROC.DOMAIN_UNDEFINE_FLAGS, {
      dom,
      flags: UndefineFlags.MANAGED_SAVE | UndefineFlags.KEEP_NVRAM | UndefineFlags.KEEP_TPM | UndefineFlags.SNAPSHOTS_METADATA,
    });
    await assert.rejects(c.call(PROC.DOMAIN_GET_STATE, { dom, flags: 0 }), isVir(VirErr.NO_DOMAIN));
  });
});
