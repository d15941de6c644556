// Flags shared by the commands that act on guests.
import { Flags } from '@oclif/core';
import { BACKENDS } from '../connect/backends.js';

export const BACKEND_ENV = 'LIBVIRT_GUESTS_BACKEND';

export const actionFlags = {
  'dry-run': Flags.boolean({ default: false, description: 'print what would be done and change nothing (connects read-only)' }),
  backend: Flags.option({
    options: BACKENDS,
    default: 'auto',
    env: BACKEND_ENV,
    description: 'how to talk to libvirt: auto (native protocol, virsh for ssh/SASL URIs), native, or virsh',
  })(),
  quiet: Flags.boolean({ char: 'q', default: false, description: 'no progress lines: only errors and the result' }),
};
