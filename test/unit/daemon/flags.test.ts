// guestd's flag checks as pure functions: the refusal's words, the API names in them, the translations.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { affectOf, checkFlags, metadataKind, SUPPORTED_FLAGS } from '../../../src/daemon/flags.js';
import { apiName } from '../../../src/remote/dispatch.js';
import { LibvirtError, VirErr } from '../../../src/libvirt/error.js';

const refusal = (re: RegExp) => (err: unknown) => {
  assert.ok(err instanceof LibvirtError);
  assert.equal(err.virCode, VirErr.INVALID_ARG);
  assert.match(err.message, re);
  return true;
};

describe('flag checks', () => {
  it('refuse exactly the bits a procedure does not understand, in unsigned hex, naming the driver function', () => {
    assert.doesNotThrow(() => checkFlags('DOMAIN_MANAGED_SAVE', 0, 'process'));
    assert.doesNotThrow(() => checkFlags('DOMAIN_MANAGED_SAVE', SUPPORTED_FLAGS.DOMAIN_MANAGED_SAVE, 'process'));
    assert.throws(
      () => checkFlags('DOMAIN_MANAGED_SAVE', 0x80000009, 'process'),
      refusal(/^unsupported flags \(0x80000008\) in function processDomainManagedSave$/),
    );
    assert.throws(() => checkFlags('DOMAIN_GET_STATE', 1, 'qemu'), refusal(/\(0x1\) in function qemuDomainGetState$/));
  });

  it('name functions as libvirt spells its API', () => {
    assert.equal(apiName('DOMAIN_GET_XML_DESC'), 'virDomainGetXMLDesc');
    assert.equal(apiName('DOMAIN_LOOKUP_BY_UUID'), 'virDomainLookupByUUID');
    assert.equal(apiName('DOMAIN_LOOKUP_BY_ID'), 'virDomainLookupByID');
    assert.equal(apiName('CONNECT_GET_URI'), 'virConnectGetURI');
    assert.equal(apiName('DOMAIN_GET_OS_TYPE'), 'virDomainGetOSType');
    assert.equal(apiName('CONNECT_LIST_ALL_DOMAINS'), 'virConnectListAllDomains');
    assert.equal(apiName('DOMAIN_PM_WAKEUP'), 'virDomainPMWakeup');
  });

  it('translate metadata types and the definitions a change affects', () => {
    assert.deepEqual(affectOf(0), { live: false, config: false });
    assert.deepEqual(affectOf(3), { live: true, config: true });
    assert.equal(metadataKind(2), 'element');
    assert.throws(() => metadataKind(3), refusal(/unknown metadata type 3/));
  });
});
