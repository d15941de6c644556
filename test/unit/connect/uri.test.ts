import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatUri, parseUri, uriParam, UriError } from '../../../src/connect/uri.js';

describe('parseUri', () => {
  it('parses a local URI', () => {
    const u = parseUri('qemu:///system');
    assert.equal(u.kind, 'uri');
    if (u.kind !== 'uri') return;
    assert.deepEqual(
      { driver: u.driver, transport: u.transport, user: u.user, host: u.host, port: u.port, path: u.path, params: u.params },
      { driver: 'qemu', transport: null, user: null, host: null, port: null, path: '/system', params: [] },
    );
  });

  it('parses transport, user, host, port and decoded parameters', () => {
    const u = parseUri('qemu+tls://root@example.org:16515/system?pkipath=/etc/x%20y&no_verify=1;mode=legacy');
    assert.ok(u.kind === 'uri');
    assert.equal(u.transport, 'tls');
    assert.equal(u.user, 'root');
    assert.equal(u.host, 'example.org');
    assert.equal(u.port, 16515);
    assert.deepEqual(u.params, [
      { name: 'pkipath', value: '/etc/x y' },
      { name: 'no_verify', value: '1' },
      { name: 'mode', value: 'legacy' },
    ]);
    assert.equal(uriParam(u, 'no_verify'), '1');
  });

  it('parses an IPv6 host in brackets', () => {
    const u = parseUri('qemu+tls://[fe80::1]:9999/system');
    assert.ok(u.kind === 'uri');
    assert.equal(u.host, 'fe80::1');
    assert.equal(u.port, 9999);
  });

  it('keeps the socket parameter of a unix URI', () => {
    const u = parseUri('guest+unix:///system?socket=/run/x/sock');
    assert.ok(u.kind === 'uri');
    assert.equal(u.driver, 'guest');
    assert.equal(u.transport, 'unix');
    assert.equal(uriParam(u, 'socket'), '/run/x/sock');
  });

  it('accepts the literal default and a path-less URI', () => {
    assert.deepEqual(parseUri('default'), { kind: 'default', text: 'default' });
    const u = parseUri('lxc://');
    assert.ok(u.kind === 'uri');
    assert.equal(u.path, '/');
  });

  for (const [text, what, hint] of [
    ['', /empty/, /qemu:\/\/\/system/],
    ['qemu:/system', /not of the form/, /qemu:\/\/\/system/],
    ['qemu', /not of the form/, /driver\[\+transport\]/],
    ['qemu+foo:///system', /unknown transport '\+foo'/, /\+unix/],
    ['qemu+tls://host:99999/system', /port '99999'/, /host:port/],
    ['qemu+tls://host:abc/system', /port 'abc'/, /host:port/],
    ['qemu+tls://[::1/system', /closing/, /\[::1\]/],
    ['qemu:///sys tem', /white space/, /%20/],
    ['qemu:///system?socket=%zz', /%-escape/, /%25/],
  ] as const) {
    it(`rejects ${JSON.stringify(text)} saying what, which URI and what to write`, () => {
      assert.throws(
        () => parseUri(text),
        (err: unknown) => {
          assert.ok(err instanceof UriError);
          assert.match(err.message, what);
          assert.ok(err.message.includes(`'${text}'`), err.message);
          assert.match(err.hint ?? '', hint);
          assert.equal(err.exit, 2);
          return true;
        },
      );
    });
  }
});

describe('formatUri', () => {
  it('round-trips the parts libvirt sends', () => {
    assert.equal(formatUri({ driver: 'qemu', path: '/system' }), 'qemu:///system');
    assert.equal(
      formatUri({ driver: 'qemu', transport: 'tls', host: '::1', port: 1, path: '/system', params: [{ name: 'a', value: 'x y/z' }] }),
      'qemu+tls://[::1]:1/system?a=x%20y/z',
    );
  });
});
