// src/remote: libvirt's REMOTE program over src/rpc.
export * from './error.js';
export * from './types.js';
export * from './protocol.js';
export * from './procedures.js';
export * from './client.js';
export * from './dispatch.js';
export * from './auth.js';
