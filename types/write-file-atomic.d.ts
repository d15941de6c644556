// write-file-atomic 7 ships no types, and @types/write-file-atomic describes its version 4. What version 7 takes
// (its README and lib/index.js); the callback form is left out: nothing here uses it.
declare module 'write-file-atomic' {
  namespace writeFileAtomic {
    interface Options {
      /** owner of the new file; default: the replaced file's; false: the writing user */
      chown?: { uid: number; gid: number } | false;
      /** how a string is written (default utf8); ignored for a Buffer */
      encoding?: BufferEncoding | null;
      /** fsync the file before the rename (default true) */
      fsync?: boolean;
      /** default: the replaced file's mode; false: the process's default */
      mode?: number | false;
      /** called with the temporary file's name once it exists */
      tmpfileCreated?: (tmpfile: string) => void | Promise<void>;
    }
    function sync(filename: string, data: string | Buffer, options?: Options | BufferEncoding): void;
  }
  /** Writes a temporary file beside `filename` and renames it over it; writes to one file are queued. */
  function writeFileAtomic(filename: string, data: string | Buffer, options?: writeFileAtomic.Options | BufferEncoding): Promise<void>;
  export = writeFileAtomic;
}
