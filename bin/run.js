#!/usr/bin/env node
// libvirt-guests entry point. The commands, oclif and the packages they need are one bundle in dist/bundle (built
// by `npm run build`, scripts/build/bundle.ts; package.json's oclif section points at its exports). A plain
// `status` is answered without loading oclif (src/cli/quick.ts); every other command line goes to oclif.
import { quickStatus } from '../dist/bundle/quick.js';

if (!(await quickStatus(process.argv.slice(2), process.env))) {
  const { run } = await import('../dist/bundle/libvirt-guests.js');
  await run(import.meta.url);
}
