// guestd's log: one line per message on stderr, "time: pid: level : message" like libvirtd. log_level filters
// (1 debug, 2 info, 3 warning, 4 error); -v/--verbose lowers the threshold to info.
type LogLevel = 1 | 2 | 3 | 4;

const NAMES = { 1: 'debug', 2: 'info', 3: 'warning', 4: 'error' } as const;

export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  setLevel(level: number): void;
}

export function createLogger(level: number, write: (line: string) => void = (l) => process.stderr.write(l)): Logger {
  let threshold = level;
  const emit = (lvl: LogLevel, message: string): void => {
    if (lvl < threshold) return;
    write(`${new Date().toISOString()}: ${process.pid}: ${NAMES[lvl]} : ${message}\n`);
  };
  return {
    debug: (m) => emit(1, m),
    info: (m) => emit(2, m),
    warn: (m) => emit(3, m),
    error: (m) => emit(4, m),
    setLevel: (l) => {
      threshold = l;
    },
  };
}
