// Authentication as libvirtd's unix socket offers it: AUTH_LIST, then nothing (none) or AUTH_POLKIT (the
// daemon asks polkit about our uid). SASL needs a SASL library we do not carry: the caller falls back to virsh.
import { LibvirtError, VirErr, VirFrom } from '../libvirt/error.js';
import type { RemoteClient } from './client.js';
import { AuthType } from './enums.js';
import { PROC } from './protocol.js';

/** The daemon wants an authentication method the native client does not speak. Use the virsh backend. */
export class AuthUnsupportedError extends LibvirtError {
  readonly methods: number[];
  constructor(methods: number[]) {
    super(
      VirErr.AUTH_FAILED,
      VirFrom.REMOTE,
      `the daemon requires SASL authentication (offered: ${methods.map(authName).join(', ')}), which the native client does not support`,
      { hint: 'Use the virsh backend for this URI.' },
    );
    this.methods = methods;
  }
}

const authName = (t: number): string =>
  t === AuthType.NONE ? 'none' : t === AuthType.SASL ? 'sasl' : t === AuthType.POLKIT ? 'polkit' : `type ${t}`;

export async function authenticate(client: RemoteClient): Promise<'none' | 'polkit'> {
  const { types } = await client.call(PROC.AUTH_LIST);
  if (types.length === 0 || types.includes(AuthType.NONE)) return 'none';
  if (types.includes(AuthType.POLKIT)) {
    const { complete } = await client.call(PROC.AUTH_POLKIT);
    if (complete !== 1) {
      throw new LibvirtError(VirErr.AUTH_FAILED, VirFrom.REMOTE, 'polkit authentication did not complete', {
        hint: 'Check the polkit rules for org.libvirt.unix.manage, or run as root.',
      });
    }
    return 'polkit';
  }
  throw new AuthUnsupportedError(types);
}
