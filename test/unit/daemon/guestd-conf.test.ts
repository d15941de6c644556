import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import {
  DEFAULT_GUESTD_CONFIG,
  describeConfigChanges,
  loadGuestdConf,
  parseGuestdConf,
} from '../../../src/config/guestd-conf.js';
import { ConfigError } from '../../../src/errors.js';
import { repoPath } from '../../helpers/repo.js';

const F = '/etc/guestd/guestd.conf';

function failure(text: string): ConfigError {
  try {
    parseGuestdConf(text, F);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a ConfigError');
}

describe('guestd.conf parsing', () => {
  it('gives the defaults for an empty or comment-only file', () => {
    assert.deepEqual(parseGuestdConf('', F), DEFAULT_GUESTD_CONFIG);
    assert.deepEqual(parseGuestdConf('# nothing\n\n   # indented comment\n', F), DEFAULT_GUESTD_CONFIG);
  });

  it('reads every supported key', () => {
    const config = parseGuestdConf(
      [
        'unix_sock_dir = "/tmp/g"  # trailing comment',
        'unix_sock_group = "libvirt"',
        'unix_sock_ro_perms = "0777"',
        'unix_sock_rw_perms = "0770"',
        "unix_sock_admin_perms = '0700'",
        'listen_tls = 0',
        'listen_addr = "127.0.0.1"',
        'tls_port = "16600"',
        'key_file = "/k.pem"',
        'cert_file = "/c.pem"',
        'ca_file = "/ca.pem"',
        'tls_allowed_dn_list = [ "C=GB,CN=a",',
        '   # a comment inside the list',
        '   "CN=b*" ]',
        'log_level = 1',
        'state_dir = "/var/tmp/state#not-a-comment"',
        'max_clients = 10',
        'max_queued_clients = 0',
        'max_anonymous_clients = 0',
        'max_client_requests = 1',
        'max_buffered_input = 33554436',
      ].join('\n'),
      F,
    );
    assert.deepEqual(config, {
      unixSockDir: '/tmp/g',
      unixSockGroup: 'libvirt',
      unixSockRoPerms: 0o777,
      unixSockRwPerms: 0o770,
      unixSockAdminPerms: 0o700,
      listenTls: false,
      listenAddr: '127.0.0.1',
      tlsPort: 16600,
      keyFile: '/k.pem',
      certFile: '/c.pem',
      caFile: '/ca.pem',
      tlsAllowedDnList: ['C=GB,CN=a', 'CN=b*'],
      logLevel: 1,
      stateDir: '/var/tmp/state#not-a-comment',
      maxClients: 10,
      maxQueuedClients: 0,
      maxAnonymousClients: 0,
      maxClientRequests: 1,
      maxBufferedInput: 33554436,
    });
  });

  it('the shipped guestd.conf, every setting uncommented, parses and states the processing defaults', () => {
    const text = readFileSync(repoPath('sysconfig', 'guestd.conf'), 'utf8').replace(/^#([a-z_]+ = )/gm, '$1');
    const config = parseGuestdConf(text, 'sysconfig/guestd.conf');
    const limits = ({ maxClients, maxQueuedClients, maxAnonymousClients, maxClientRequests, maxBufferedInput }: typeof config) =>
      ({ maxClients, maxQueuedClients, maxAnonymousClients, maxClientRequests, maxBufferedInput });
    assert.deepEqual(limits(config), limits(DEFAULT_GUESTD_CONFIG));
  });

  it("has libvirtd's processing limits by default, and refuses limits that could not serve anyone", () => {
    const d = parseGuestdConf('', F);
    assert.deepEqual(
      [d.maxClients, d.maxQueuedClients, d.maxAnonymousClients, d.maxClientRequests],
      [5000, 1000, 20, 5],
    );
    assert.ok(d.maxBufferedInput >= 33554436);
    for (const [line, allowed] of [
      ['max_clients = 0', /≥ 1/],
      ['max_client_requests = 0', /≥ 1/],
      ['max_queued_clients = -1', /≥ 0/],
      ['max_buffered_input = 1048576', /≥ 33554436 \(one message of libvirt's largest size\)/],
      ['max_clients = "10"', /integer/],
    ] as const) {
      const error = failure(`${line}\n`);
      assert.equal(error.line, 1, line);
      assert.match(error.message, allowed);
    }
  });

  it('accepts tls_port as an integer and an empty list', () => {
    const config = parseGuestdConf('tls_port = 16514\ntls_allowed_dn_list = []\n', F);
    assert.equal(config.tlsPort, 16514);
    assert.deepEqual(config.tlsAllowedDnList, []);
  });

  it('names file:line and the key for an unknown key', () => {
    const error = failure('log_level = 2\n\nunix_sock_dri = "/x"\n');
    assert.equal(error.line, 3);
    assert.equal(error.file, F);
    assert.match(error.message, /^\/etc\/guestd\/guestd\.conf:3: unknown setting 'unix_sock_dri'/);
    assert.match(error.hint ?? '', /unix_sock_dir/);
    assert.equal(error.exit, 6);
  });

  it('names file:line, key, value and what is allowed for a bad value', () => {
    const cases: [string, number, RegExp][] = [
      ['log_level = 9', 1, /invalid value 9 for 'log_level': expected 1 \(debug\)/],
      ['\nunix_sock_rw_perms = "0999"', 2, /invalid value "0999" for 'unix_sock_rw_perms': expected octal/],
      ['\n\nunix_sock_rw_perms = 770', 3, /invalid value 770 for 'unix_sock_rw_perms'/],
      ['listen_tls = 2', 1, /'listen_tls': expected 0 or 1/],
      ['tls_port = "99999"', 1, /invalid value "99999" for 'tls_port': expected a TCP port/],
      ['state_dir = "relative"', 1, /'state_dir': expected an absolute path/],
      ['tls_allowed_dn_list = "CN=x"', 1, /'tls_allowed_dn_list': expected a list/],
    ];
    for (const [text, line, pattern] of cases) {
      const error = failure(text);
      assert.equal(error.line, line, text);
      assert.match(error.message, new RegExp(`^${F}:${line}: `), text);
      assert.match(error.message, pattern, text);
    }
  });

  it('names the line of syntax errors', () => {
    assert.equal(failure('log_level 3').line, 1);
    assert.match(failure('\nunix_sock_dir = /tmp/x').message, /:2: invalid value '\/tmp\/x' for 'unix_sock_dir': strings must be in double quotes/);
    assert.equal(failure('\n\nstate_dir = "/x').line, 3);
    const list = failure('tls_allowed_dn_list = [\n "a",\n "b"\n');
    assert.equal(list.line, 1);
    assert.match(list.message, /missing '\]'/);
    assert.equal(failure('log_level = 2 3').line, 1);
    assert.equal(failure('log_level =\n').line, 1);
    assert.match(failure('log_level = 2\nlog_level = 3').message, /:2: 'log_level' is already set on line 1/);
  });

  it('loads a file, and treats a missing default file as empty', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'guestd-conf-'));
    const file = path.join(dir, 'guestd.conf');
    writeFileSync(file, 'log_level = 2\nbogus = 1\n');
    assert.throws(() => loadGuestdConf(file, { optional: false }), (e: ConfigError) => e.line === 2 && e.file === file);
    assert.deepEqual(loadGuestdConf(path.join(dir, 'none'), { optional: true }), DEFAULT_GUESTD_CONFIG);
    assert.throws(() => loadGuestdConf(path.join(dir, 'none'), { optional: false }), /cannot read the configuration file/);
  });

  it('describes changes between two configs', () => {
    const a = parseGuestdConf('log_level = 3', F);
    const b = parseGuestdConf('log_level = 1\nunix_sock_rw_perms = "0770"', F);
    assert.deepEqual(describeConfigChanges(a, b), ['unix_sock_rw_perms: 448 → 504', 'log_level: 3 → 1']);
  });
});
