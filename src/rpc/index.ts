// src/rpc: libvirt's generic RPC layer (XDR, framing, keepalive, client, server). Knows no procedure.
export * from './errors.js';
export * from './xdr.js';
export * as X from './xdr-types.js';
export type { XdrType, Infer } from './xdr-types.js';
export * from './message.js';
export * from './keepalive.js';
export * from './wire-error.js';
export * from './transport.js';
export * from './client.js';
export * from './server.js';
