// Lint configuration: typescript-eslint's recommended rules over every TypeScript source, and the direction of
// imports between the rooms of src/ (the table below, also in README.md's Layout section).
import js from '@eslint/js';
import importX, { createNodeResolver } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

/**
 * What each room may import, besides itself and the shared files at the top of src/ (errors.ts…). A room imports
 * only rooms below it: libvirt ← rpc ← remote ← connect ← orchestrator ← ui ← cli ← commands, with the daemon and
 * its driver beside the client side. Rooms not named are forbidden, and src/ never imports commands, scripts, tests,
 * bench or demo; those import what they need.
 */
const ROOMS = {
  'src/libvirt': [], // libvirt's vocabulary: error codes, states, events, jobs, UUIDs
  'src/effects': [], // files, clock, run lock, process identity, systemd notify
  'src/guest': [], // the guest runtime program
  'src/rpc': ['src/libvirt'],
  'src/remote': ['src/rpc', 'src/libvirt'],
  'src/connect': ['src/remote', 'src/rpc', 'src/libvirt'],
  'src/config': ['src/effects', 'src/rpc'], // rpc: guestd.conf's limits are the RPC server's
  'src/orchestrator': ['src/connect', 'src/config', 'src/effects', 'src/libvirt'],
  'src/ui': ['src/orchestrator', 'src/libvirt'],
  'src/cli': ['src/orchestrator', 'src/ui', 'src/connect', 'src/config', 'src/effects', 'src/libvirt'],
  commands: ['src/cli', 'src/orchestrator', 'src/ui'],
  'src/driver': ['src/guest', 'src/effects', 'src/libvirt'],
  // connect: a peer-to-peer migration opens the destination daemon as a client would
  'src/daemon': ['src/driver', 'src/connect', 'src/remote', 'src/rpc', 'src/config', 'src/effects', 'src/libvirt'],
  'src/guestctl': ['src/connect', 'src/remote', 'src/ui', 'src/libvirt'],
};
const OUTSIDE_SRC = ['scripts', 'test', 'bench', 'demo', 'bin'];

const roomZones = [
  ...Object.entries(ROOMS).map(([room, allowed]) => ({
    target: `./${room}`,
    from: [...Object.keys(ROOMS), ...OUTSIDE_SRC].filter((other) => other !== room && !allowed.includes(other)).map((p) => `./${p}`),
    message: `${room} may import only ${allowed.length ? allowed.join(', ') : 'nothing of another room'} (the table in eslint.config.js).`,
  })),
  {
    target: './src/*.ts',
    from: [...Object.keys(ROOMS), ...OUTSIDE_SRC].map((p) => `./${p}`),
    message: 'the shared files at the top of src/ import no room: every room imports them.',
  },
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'oclif.manifest.json'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    // small modules named by noun: no hand-written file over 450 lines (the generated procedure table is exempt)
    files: ['**/*.ts'],
    ignores: ['src/remote/procedure-table.ts'],
    rules: { 'max-lines': ['error', { max: 450, skipBlankLines: false, skipComments: false }] },
  },
  {
    files: ['src/**/*.ts', 'commands/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      // sources import `./x.js` and mean `./x.ts` (module Node16)
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js', '.json'], extensionAlias: { '.js': ['.ts', '.js'] } })],
    },
    rules: {
      'import-x/no-restricted-paths': ['error', { zones: roomZones }],
      // an import the rule cannot resolve would pass it unchecked
      'import-x/no-unresolved': 'error',
    },
  },
  {
    files: ['bin/**/*.js', 'eslint.config.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
);
