// The npm tarball (`npm pack`, also the content of the Debian package): lean — no tests, no source maps without
// their sources, no development entry point — with the JSON schema the README names, and installable: installed
// with its production dependencies into an empty prefix, its three commands run.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execa } from 'execa';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../../helpers/repo.js';

const work = mkdtempSync(path.join(tmpdir(), 'lgt-npm-'));
after(() => rmSync(work, { recursive: true, force: true }));

test('the tarball holds what runs, the schema, man pages and completion, and nothing for development', async () => {
  const { stdout } = await execa('npm', ['pack', '--dry-run', '--json'], { cwd: REPO_ROOT });
  const files = (JSON.parse(stdout) as [{ files: { path: string }[] }])[0].files.map((f) => f.path);
  for (const wanted of [
    'bin/run.js',
    'bin/guestd.js',
    'bin/guestctl.js',
    'oclif.manifest.json',
    'dist/bundle/libvirt-guests.js',
    'dist/bundle/guestctl.js',
    'dist/src/guest/main.js',
    'src/orchestrator/result.schema.json',
    'dist/man/libvirt-guests.8',
    'dist/completion/guestctl',
    'systemd/libvirt-guests.service',
    'sysconfig/libvirt-guests',
  ]) {
    assert.ok(files.includes(wanted), `${wanted} is in the tarball`);
  }
  const unwanted = files.filter((f) => /^dist\/(test|bench|demo|scripts)\/|\.map$|^bin\/dev\.js$|\.ts$/.test(f) && !f.endsWith('.d.ts'));
  assert.deepEqual(unwanted, []);
});

test('installed from the tarball into an empty prefix, the three commands run', async () => {
  const { stdout } = await execa('npm', ['pack', '--silent', '--pack-destination', work], { cwd: REPO_ROOT });
  const tarball = path.join(work, stdout.trim().split('\n').at(-1)!);
  const prefix = path.join(work, 'prefix');
  await execa('npm', ['install', '--prefix', prefix, '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline', tarball]);
  const bin = (name: string): string => path.join(prefix, 'node_modules', '.bin', name);
  const config = path.join(work, 'libvirt-guests.conf');
  writeFileSync(config, 'ON_SHUTDOWN=shutdown\n');
  const reload = await execa(bin('libvirt-guests'), ['reload'], { env: { LIBVIRT_GUESTS_CONFIG: config }, reject: false });
  assert.equal(reload.exitCode, 0, reload.stderr);
  assert.match(reload.stdout, /ON_SHUTDOWN=shutdown/);
  assert.match((await execa(bin('guestd'), ['--version'])).stdout, /^guestd \(libvirt-guests-ts\) /);
  assert.match((await execa(bin('guestctl'), ['help'])).stdout, /^Usage: guestctl/);
});
