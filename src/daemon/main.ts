// guestd's entry point (bin/guestd.js): options → config → settings → (detach) → run until a signal or the idle
// timeout. Errors become exit codes here and only here: 0 ok, 1 failure, 2 usage, 6 bad configuration.
import { spawn } from 'node:child_process';
import { mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import { loadGuestdConf } from '../config/guestd-conf.js';
import { ProcessDriver } from '../driver/process/driver.js';
import { EXIT, GuestsError } from '../errors.js';
import { startDaemon } from './daemon.js';
import { createLogger } from './log.js';
import { inputReleased, prepareGarbageCollection } from './memory.js';
import { HELP_TEXT, parseDaemonOptions } from './options.js';
import { defaultPaths } from './paths.js';
import { createRemoteService } from './remote-service.js';
import { resolveSettings } from './settings.js';
import { GUESTD_VERSION } from './version.js';

/** set in the detached child of `guestd -d`, which reports readiness to its parent over the IPC channel */
const DETACHED_ENV = 'GUESTD_DETACHED_CHILD';

async function main(argv: string[]): Promise<number> {
  const options = parseDaemonOptions(argv);
  if (options.help) {
    process.stdout.write(HELP_TEXT);
    return EXIT.OK;
  }
  if (options.version) {
    process.stdout.write(`guestd (libvirt-guests-ts) ${GUESTD_VERSION}\n`);
    return EXIT.OK;
  }
  const paths = defaultPaths(process.getuid?.() ?? 0, process.env);
  const configFile = options.configFile ?? paths.configFile;
  const config = loadGuestdConf(configFile, { optional: options.configFile === null });
  const settings = resolveSettings(paths, options, config);

  const detachedChild = process.env[DETACHED_ENV] === '1';
  if (options.daemon && !detachedChild) return detach(argv, settings.sockDir);
  delete process.env[DETACHED_ENV];

  const log = createLogger(options.verbose ? Math.min(config.logLevel, 2) : config.logLevel);
  prepareGarbageCollection();
  const daemon = await startDaemon({
    options,
    settings,
    config,
    log,
    env: process.env,
    createDriver: (s, l) =>
      new ProcessDriver({
        stateDir: s.stateDir,
        runDir: s.runDir,
        log: { debug: l.debug, info: l.info, warn: l.warn, error: l.error },
      }),
    createService: (driver, l, c) =>
      createRemoteService(driver, l, {
        limits: {
          maxClients: c.maxClients,
          maxQueuedClients: c.maxQueuedClients,
          maxClientRequests: c.maxClientRequests,
          maxBufferedInput: c.maxBufferedInput,
        },
        onInputReleased: inputReleased,
      }),
    onReady: () => {
      if (detachedChild && process.send) {
        process.send({ ready: true });
        process.disconnect();
      }
    },
  });
  return daemon.done;
}

/**
 * -d: start a detached copy of ourselves (own session, stdio to <sockDir>/guestd.log) and wait until it listens, so
 * `guestd -d && virsh …` works. Our exit status says whether it came up.
 */
function detach(argv: string[], sockDir: string): Promise<number> {
  mkdirSync(sockDir, { recursive: true, mode: 0o755 });
  const logFile = path.join(sockDir, 'guestd.log');
  const out = openSync(logFile, 'a');
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!, ...argv], {
    detached: true,
    stdio: ['ignore', out, out, 'ipc'],
    env: { ...process.env, [DETACHED_ENV]: '1' },
  });
  return new Promise((resolve) => {
    child.once('message', () => {
      child.unref();
      child.disconnect();
      resolve(EXIT.OK);
    });
    child.once('exit', (code) => {
      process.stderr.write(`guestd: the daemon exited during start-up (status ${code}); see ${logFile}\n`);
      resolve(code || EXIT.FAILURE);
    });
  });
}

function report(error: unknown): number {
  if (error instanceof GuestsError) {
    process.stderr.write(`guestd: error: ${error.describe()}\n`);
    return error.exit;
  }
  process.stderr.write(`guestd: error: ${(error as Error)?.stack ?? String(error)}\n`);
  return EXIT.FAILURE;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => process.exit(report(error)),
);
