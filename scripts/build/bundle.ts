// The bundles the commands start from (`npm run build` runs this after tsc): each entry with the packages it imports
// in one ES module, so a cold start reads one file instead of resolving and compiling hundreds. What only a command's
// work needs stays behind dynamic import() and lands in a chunk of its own, read when that work starts.
//   node dist/scripts/build/bundle.js      (after tsc; writes dist/bundle/)
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** the bundled packages written as CommonJS call require() for Node's built-in modules: give the module one */
const requireShim = "import { createRequire as __bundleRequire } from 'node:module'; const require = __bundleRequire(import.meta.url);";

// chunks are named by their hash: last build's would stay beside this one's
rmSync(path.join(root, 'dist/bundle'), { recursive: true, force: true });
const result = await build({
  absWorkingDir: root,
  entryPoints: { 'libvirt-guests': 'dist/commands/index.js', quick: 'dist/src/cli/quick.js', guestctl: 'dist/src/guestctl/main.js' },
  outdir: 'dist/bundle',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  chunkNames: 'chunk-[hash]',
  banner: { js: requireShim },
  // @oclif/core looks for typescript only to run a plugin's .ts sources in development; never in a build
  external: ['typescript'],
  metafile: true,
  logLevel: 'warning',
});
if (process.env.BUNDLE_REPORT) {
  const { analyzeMetafile } = await import('esbuild');
  process.stdout.write(await analyzeMetafile(result.metafile));
}
