import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isConnectionLoss } from '../../../src/connect/connection-loss.js';
import { virshError } from '../../../src/connect/virsh-error.js';
import { RpcError } from '../../../src/rpc/errors.js';

test('a daemon gone mid-call: the native client\'s closed, transport and keepalive failures', () => {
  for (const failure of ['closed', 'transport', 'keepalive'] as const) assert.equal(isConnectionLoss(new RpcError(failure, 'x')), true, failure);
  for (const failure of ['connect', 'protocol', 'timeout', 'aborted', 'xdr'] as const) assert.equal(isConnectionLoss(new RpcError(failure, 'x')), false, failure);
});

test("a daemon gone mid-call: virsh's words for it (libvirtd stopped during `virsh managedsave`)", () => {
  const lost = virshError(
    "error: Disconnected from qemu:///system due to end of file\nerror: Failed to save domain 'vm1' state\nerror: End of file while reading data: Input/output error\n",
    'managedsave',
    1,
  );
  assert.equal(isConnectionLoss(lost), true);
  assert.equal(isConnectionLoss(virshError("error: failed to get domain 'vm1'\n", 'managedsave', 1)), false);
  assert.equal(isConnectionLoss(virshError('error: operation failed: domain is not running\n', 'managedsave', 1)), false);
  assert.equal(isConnectionLoss(new Error('connection closed')), false);
});
