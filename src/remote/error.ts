// Until the merge of issue 10: src/driver and src/daemon/remote-handlers.ts still import libvirt's error from here
// (their rooms are being split on another branch). Delete this file once they import src/libvirt/error.ts.
export { LibvirtError, VirErr, VirFrom } from '../libvirt/error.js';
