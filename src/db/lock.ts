import { accessSync, closeSync, constants, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AppError } from '../errors/index.js';

/**
 * PGlite takes no lock on its data directory and two processes writing one directory silently lose
 * rows, so we take one: a lock file holding our pid, created exclusively. A lock left by a dead
 * process (crash, kill -9) is taken over.
 */
export function lockDataDir(dir: string): () => void {
  makeDataDir(dir);
  const path = join(dir, 'earnest.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => {
        if (existsSync(path) && readFileSync(path, 'utf8') === String(process.pid)) rmSync(path);
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const holder = Number(readFileSync(path, 'utf8'));
      if (Number.isInteger(holder) && holder > 0 && isAlive(holder)) {
        throw new AppError(
          'data_dir_locked',
          `data directory ${dir} is in use by process ${holder}; stop it first, or use another --data-dir or DATABASE_URL`,
        );
      }
      rmSync(path, { force: true });
    }
  }
  throw new AppError('data_dir_locked', `could not lock data directory ${dir}`);
}

/** Creates the data directory if missing; one that cannot exist or be written is the operator's to fix. */
function makeDataDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
  } catch (e) {
    const why = DATA_DIR_PROBLEMS[(e as NodeJS.ErrnoException).code ?? ''];
    if (why === undefined) throw e;
    throw new AppError('invalid_config', `DATA_DIR ${resolve(dir)} cannot be used: ${why}; choose another with DATA_DIR or --data-dir`);
  }
}

const DATA_DIR_PROBLEMS: Record<string, string> = {
  ENOTDIR: 'part of its path is a file, not a directory',
  EEXIST: 'it is a file, not a directory',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'the file system is read-only',
  ENOSPC: 'no space left on the device',
  ENAMETOOLONG: 'the path is too long',
};

function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
