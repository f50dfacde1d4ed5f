/**
 * The files one benchmark run shares between its processes: a private
 * temporary directory holding a fresh room key, the servers' SQLite files
 * and the TLS stages' certificates. A key made for the run (by the same
 * `saveKeyFile` as `npm run keygen`) and deleted with the directory means a
 * benchmark never reads a real secret such as `.data/chat.key`.
 *
 * @module
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateKey } from '../shared/src/crypto';
import { loadKeyFile, saveKeyFile } from '../shared/src/key-file';

/** Where a run keeps its temporary files. Plain data: it travels over IPC to load processes. */
export interface RunFiles {
  /** A fresh directory (mode 0700), removed when the run ends. */
  dir: string;
  /** The run's room key file (mode 0600) inside `dir`. */
  keyFile: string;
}

/** Creates the run's directory and key; {@link removeRunFiles} deletes them. */
export function createRunFiles(): RunFiles {
  // mkdtemp creates the directory with mode 0700: other local users cannot list it.
  const dir = mkdtempSync(path.join(os.tmpdir(), 'chat-bench-'));
  const keyFile = path.join(dir, 'room.key');
  saveKeyFile(keyFile, generateKey());
  return { dir, keyFile };
}

/** Deletes the run's directory and everything in it; never throws. */
export function removeRunFiles(files: RunFiles): void {
  rmSync(files.dir, { recursive: true, force: true });
}

let serial = 0;

/** A new SQLite file name in the run's directory, e.g. `stage6-PID-7.sqlite`: an empty database. */
export function runDatabase(files: RunFiles, prefix: string): string {
  return path.join(files.dir, `${prefix}-${process.pid}-${++serial}.sqlite`);
}

let key: { file: string; key: Buffer } | undefined;

/** The run's room key, read once per process (not once per each of a thousand clients). */
export function runKey(files: RunFiles): Buffer {
  if (key?.file !== files.keyFile) key = { file: files.keyFile, key: loadKeyFile(files.keyFile) };
  return key.key;
}
