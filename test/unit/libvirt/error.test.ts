import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GuestsError } from '../../../src/errors.js';
import { isVirError, LibvirtError, VirErr, VirFrom } from '../../../src/libvirt/error.js';

test("isVirError tells libvirt's error by its code, whatever its domain", () => {
  const noDomain = new LibvirtError(VirErr.NO_DOMAIN, VirFrom.QEMU, "Domain not found: no domain with matching uuid 'x'");
  assert.equal(isVirError(noDomain, VirErr.NO_DOMAIN), true);
  assert.equal(isVirError(new LibvirtError(VirErr.NO_DOMAIN, VirFrom.REMOTE, 'gone'), VirErr.NO_DOMAIN), true);
  assert.equal(isVirError(noDomain, VirErr.OPERATION_INVALID), false);
});

test('isVirError is false for anything that is not a LibvirtError, even one that looks like it', () => {
  const lookalike = Object.assign(new Error('Domain not found'), { virCode: VirErr.NO_DOMAIN });
  for (const err of [lookalike, new GuestsError('libvirt-42', 1, 'x'), undefined, null, 'NO_DOMAIN', VirErr.NO_DOMAIN])
    assert.equal(isVirError(err, VirErr.NO_DOMAIN), false, String(err));
});
