// `node dist/scripts/docs/main.js OUT_DIR` (run by `npm run build`): writes OUT_DIR/man/* and OUT_DIR/completion/*
// from the built program's own descriptions (oclif.manifest.json must exist: `oclif manifest` runs first).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { guestctlCompletion, libvirtGuestsCompletion } from './completion.js';
import { manPages, type ManifestCommand } from './man-pages.js';

const root = process.cwd();
const out = process.argv[2] ?? path.join(root, 'dist');
const read = (file: string): string => readFileSync(path.join(root, file), 'utf8');
const manifest = JSON.parse(read('oclif.manifest.json')) as { commands: Record<string, ManifestCommand> };
const commands = Object.values(manifest.commands);
const pages = manPages({
  version: (JSON.parse(read('package.json')) as { version: string }).version,
  commands,
  guestsConfig: read('sysconfig/libvirt-guests'),
  guestdConfig: read('sysconfig/guestd.conf'),
});
mkdirSync(path.join(out, 'man'), { recursive: true });
for (const [file, text] of Object.entries(pages)) writeFileSync(path.join(out, 'man', file), text);
mkdirSync(path.join(out, 'completion'), { recursive: true });
writeFileSync(path.join(out, 'completion', 'libvirt-guests'), libvirtGuestsCompletion(commands));
writeFileSync(path.join(out, 'completion', 'guestctl'), guestctlCompletion());
