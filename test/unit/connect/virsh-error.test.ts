import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { errorLines, virshError, SYSTEM_ERROR } from '../../../src/connect/virsh-error.js';
import { LibvirtError, VirErr } from '../../../src/libvirt/error.js';

describe('virshError', () => {
  const cases: Array<[string, number]> = [
    ["error: failed to get domain 'nope'\n", VirErr.NO_DOMAIN],
    ["error: Failed to get domain\nerror: Domain not found: no domain with matching name 'x'\n", VirErr.NO_DOMAIN],
    ['error: argument unsupported: QEMU guest agent is not configured\n', VirErr.ARGUMENT_UNSUPPORTED],
    ["error: Failed to destroy domain 'lgt-acpi-1'\nerror: Requested operation is not valid: domain is not running\n", VirErr.OPERATION_INVALID],
    ['error: Domain is already active\n', VirErr.OPERATION_INVALID],
    ['error: metadata not found: Requested metadata element is not present\n', VirErr.NO_DOMAIN_METADATA],
    ["error: Failed to save domain 'a' state\nerror: operation aborted: job 'domain save' canceled by client\n", VirErr.OPERATION_ABORTED],
    ['error: operation forbidden: read only access prevents virDomainDestroy\n', VirErr.OPERATION_DENIED],
    ["error: failed to connect to the hypervisor\nerror: Failed to connect socket to '/run/x': No such file or directory\n", SYSTEM_ERROR],
    ['error: Guest agent is not responding: timeout\n', VirErr.AGENT_UNRESPONSIVE],
    ['error: something new\n', VirErr.INTERNAL_ERROR],
  ];
  for (const [stderr, code] of cases) {
    it(`${JSON.stringify(stderr.split('\n').at(-2))} → ${code}`, () => {
      const err = virshError(stderr, 'x', 1);
      assert.ok(err instanceof LibvirtError);
      assert.equal(err.virCode, code);
      for (const line of errorLines(stderr)) assert.ok(err.message.includes(line), err.message);
    });
  }

  it('still produces a message when virsh printed nothing', () => {
    assert.match(virshError('', 'start', 1).message, /virsh start failed with exit code 1/);
  });
});
