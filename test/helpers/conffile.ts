// Whether a conffile is still as its package shipped it: dpkg records each conffile's md5 at installation. Tests
// that mean Debian's stock file check this instead of trusting the machine's copy (an admin may have edited it).

/** a shell command that exits 0 when `file` is owned by a package and unchanged since it was installed */
export function isStockConffile(file: string): string {
  const owner = `dpkg-query -S '${file}' 2>/dev/null | cut -d: -f1`;
  const recorded = `dpkg-query -W -f='\${Conffiles}\\n' "$(${owner})" 2>/dev/null | awk '$1 == "${file}" { print $2 }'`;
  return `test -n "$(${owner})" && test "$(md5sum < '${file}' | cut -d' ' -f1)" = "$(${recorded})"`;
}
