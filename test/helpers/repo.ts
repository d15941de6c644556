// Paths of the repository, whether tests run from TypeScript sources (tsx) or compiled (dist/test).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('repository root (package.json) not found above the test files');
    dir = up;
  }
  return dir;
}

export const REPO_ROOT = findRoot();
export const repoPath = (...parts: string[]): string => path.join(REPO_ROOT, ...parts);
