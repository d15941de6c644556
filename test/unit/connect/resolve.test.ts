import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HostEffects } from '../../../src/connect/host-effects.js';
import { defaultUri, remoteName, resolveUri } from '../../../src/connect/resolve.js';
import { parseUri, UriError } from '../../../src/connect/uri.js';
import { ConfigError } from '../../../src/errors.js';

function fx(o: { uid?: number; env?: Record<string, string>; files?: Record<string, string>; home?: string } = {}): HostEffects {
  const files = o.files ?? {};
  return {
    uid: o.uid ?? 0,
    env: o.env ?? {},
    home: o.home ?? (o.uid ? '/home/u' : '/root'),
    exists: (p) => p in files,
    readFile: (p) => files[p] ?? null,
  };
}

const unix = (text: string, f: HostEffects, readonly = false): string => {
  const r = resolveUri(text, { readonly }, f);
  assert.equal(r.target?.transport, 'unix', JSON.stringify(r));
  return r.target.transport === 'unix' ? r.target.socketPath : '';
};

describe('resolveUri: local sockets', () => {
  it('qemu:///system prefers the modular virtqemud socket when it exists', () => {
    assert.equal(unix('qemu:///system', fx({ files: { '/run/libvirt/virtqemud-sock': '' } })), '/run/libvirt/virtqemud-sock');
    assert.equal(unix('qemu:///system', fx()), '/run/libvirt/libvirt-sock');
  });

  it('read-only asks for the -ro sockets', () => {
    assert.equal(unix('qemu:///system', fx({ files: { '/run/libvirt/virtqemud-sock-ro': '' } }), true), '/run/libvirt/virtqemud-sock-ro');
    assert.equal(unix('qemu:///system', fx(), true), '/run/libvirt/libvirt-sock-ro');
    assert.equal(unix('guest:///system', fx(), true), '/run/guestd/guestd-sock-ro');
    const r = resolveUri('qemu:///system', { readonly: true }, fx());
    assert.equal(r.readonly, true);
  });

  it('mode=legacy and mode=direct override the probe', () => {
    const f = fx({ files: { '/run/libvirt/virtqemud-sock': '' } });
    assert.equal(unix('qemu:///system?mode=legacy', f), '/run/libvirt/libvirt-sock');
    assert.equal(unix('qemu:///system?mode=direct', fx()), '/run/libvirt/virtqemud-sock');
  });

  it('qemu:///session lives in XDG_RUNTIME_DIR, else ~/.cache', () => {
    const f = fx({ uid: 1000, env: { XDG_RUNTIME_DIR: '/run/user/1000' }, files: { '/run/user/1000/libvirt/virtqemud-sock': '' } });
    assert.equal(unix('qemu:///session', f), '/run/user/1000/libvirt/virtqemud-sock');
    assert.equal(unix('qemu:///session', fx({ uid: 1000, env: { XDG_RUNTIME_DIR: '/run/user/1000' } })), '/run/user/1000/libvirt/libvirt-sock');
    assert.equal(unix('qemu:///session', fx({ uid: 1000 })), '/home/u/.cache/libvirt/libvirt-sock');
  });

  it('guest:///system and guest:///session', () => {
    assert.equal(unix('guest:///system', fx()), '/run/guestd/guestd-sock');
    assert.equal(unix('guest:///session', fx({ uid: 1000, env: { XDG_RUNTIME_DIR: '/run/user/1000' } })), '/run/user/1000/guestd/guestd-sock');
    assert.equal(unix('guest:///session', fx({ uid: 1000 })), '/home/u/.cache/guestd/guestd-sock');
  });

  it('+unix with ?socket= connects there and strips transport and socket from the remote name', () => {
    const r = resolveUri('guest+unix:///system?socket=/x', {}, fx());
    assert.deepEqual(r.target, { transport: 'unix', socketPath: '/x' });
    assert.equal(r.remoteName, 'guest:///system');
    assert.equal(r.original, 'guest+unix:///system?socket=/x');
  });

  it('keeps daemon-side parameters in the remote name, honours ?name=', () => {
    assert.equal(remoteName(asUri('qemu+unix:///system?socket=/s&no_verify=1&foo=bar')), 'qemu:///system?foo=bar');
    assert.equal(remoteName(asUri('qemu+tls://h/system?name=xen:///')), 'xen:///');
  });

  it('rejects a path the driver does not have, and unix with a host', () => {
    assert.throws(() => resolveUri('qemu:///sytem', {}, fx()), (e: unknown) => e instanceof UriError && /qemu:\/\/\/system/.test(e.hint ?? ''));
    assert.throws(() => resolveUri('qemu+unix://host/system', {}, fx()), UriError);
  });
});

describe('resolveUri: TLS', () => {
  it('defaults the port to 16514 and uses the system PKI as root', () => {
    const r = resolveUri('qemu+tls://h.example/system', {}, fx());
    assert.deepEqual(r.target, {
      transport: 'tls', host: 'h.example', port: 16514,
      caFile: '/etc/pki/CA/cacert.pem', certFile: '/etc/pki/libvirt/clientcert.pem', keyFile: '/etc/pki/libvirt/private/clientkey.pem',
    });
    assert.equal(r.remoteName, 'qemu:///system');
  });

  it('a host without a transport means TLS; the port is kept', () => {
    const r = resolveUri('qemu://h:1234/system', {}, fx());
    assert.equal(r.target?.transport, 'tls');
    assert.ok(r.target?.transport === 'tls' && r.target.port === 1234);
  });

  it('uses ~/.pki/libvirt as non-root, and pkipath= overrides', () => {
    const r = resolveUri('qemu+tls://h/system', {}, fx({ uid: 1000 }));
    assert.ok(r.target?.transport === 'tls');
    assert.equal(r.target.caFile, '/home/u/.pki/libvirt/cacert.pem');
    assert.equal(r.target.certFile, '/home/u/.pki/libvirt/clientcert.pem');
    assert.equal(r.target.keyFile, '/home/u/.pki/libvirt/clientkey.pem');
    const p = resolveUri('qemu+tls://h/system?pkipath=/p', {}, fx({ uid: 1000 }));
    assert.ok(p.target?.transport === 'tls');
    assert.deepEqual([p.target.caFile, p.target.certFile, p.target.keyFile], ['/p/cacert.pem', '/p/clientcert.pem', '/p/clientkey.pem']);
    assert.equal(p.remoteName, 'qemu:///system');
  });
});

describe('resolveUri: transports for virsh', () => {
  for (const text of ['qemu+ssh://root@h/system', 'qemu+libssh://h/system', 'qemu+tcp://h/system', 'qemu+ext:///system?command=/bin/x',
    'qemu+tls://h/system?auth=sasl', 'qemu:///system?authtype=sasl', 'test:///default']) {
    it(`${text} has no native target and says why`, () => {
      const r = resolveUri(text, {}, fx());
      assert.equal(r.target, null);
      assert.ok(r.virshReason && r.virshReason.length > 20, r.virshReason);
    });
  }
});

describe('default', () => {
  it('takes LIBVIRT_DEFAULT_URI first', () => {
    const f = fx({ env: { LIBVIRT_DEFAULT_URI: 'guest:///system' }, files: { '/etc/libvirt/libvirt.conf': 'uri_default = "qemu:///system"\n', '/run/libvirt/libvirt-sock': '' } });
    assert.deepEqual(defaultUri(f), { uri: 'guest:///system', source: 'env' });
    const r = resolveUri('default', {}, f);
    assert.equal(r.original, 'guest:///system');
    assert.deepEqual(r.target, { transport: 'unix', socketPath: '/run/guestd/guestd-sock' });
  });

  it('then uri_default in /etc/libvirt/libvirt.conf as root', () => {
    const f = fx({ files: { '/etc/libvirt/libvirt.conf': '# c\n#uri_default = "x:///"\nuri_default = \'guest+unix:///system?socket=/s\'  # mine\n' } });
    assert.deepEqual(defaultUri(f), { uri: 'guest+unix:///system?socket=/s', source: 'config', detail: '/etc/libvirt/libvirt.conf' });
  });

  it('non-root reads $XDG_CONFIG_HOME/libvirt/libvirt.conf, falling back to ~/.config', () => {
    const conf = { '/home/u/.config/libvirt/libvirt.conf': 'uri_default = "qemu:///session"' };
    assert.equal(defaultUri(fx({ uid: 1000, files: conf }))?.uri, 'qemu:///session');
    assert.equal(defaultUri(fx({ uid: 1000, env: { XDG_CONFIG_HOME: '/cfg' }, files: conf })), null);
    assert.equal(defaultUri(fx({ uid: 1000, env: { XDG_CONFIG_HOME: '/cfg' }, files: { '/cfg/libvirt/libvirt.conf': 'uri_default="guest:///session"' } }))?.uri, 'guest:///session');
  });

  it('reports a malformed uri_default with file and line', () => {
    assert.throws(() => defaultUri(fx({ files: { '/etc/libvirt/libvirt.conf': '\nuri_default = qemu:///system\n' } })),
      (e: unknown) => e instanceof ConfigError && e.line === 2 && e.file === '/etc/libvirt/libvirt.conf');
  });

  it('then probes qemu system sockets, then guestd', () => {
    assert.equal(defaultUri(fx({ files: { '/run/libvirt/libvirt-sock': '', '/run/guestd/guestd-sock': '' } }))?.uri, 'qemu:///system');
    assert.equal(defaultUri(fx({ files: { '/run/libvirt/virtqemud-sock': '' } }))?.uri, 'qemu:///system');
    assert.deepEqual(defaultUri(fx({ files: { '/run/guestd/guestd-sock': '' } })), { uri: 'guest:///system', source: 'probe', detail: '/run/guestd/guestd-sock' });
    assert.equal(defaultUri(fx({ uid: 1000, env: { XDG_RUNTIME_DIR: '/r' }, files: { '/r/guestd/guestd-sock': '' } }))?.uri, 'guest:///session');
  });

  it('leaves the choice to virsh when nothing is found', () => {
    const r = resolveUri('default', {}, fx());
    assert.equal(r.target, null);
    assert.equal(r.original, 'default');
    assert.match(r.virshReason ?? '', /LIBVIRT_DEFAULT_URI/);
  });
});

function asUri(text: string) {
  const u = parseUri(text);
  assert.ok(u.kind === 'uri');
  return u;
}
