/**
 * Reading a callgrind profile: the total instructions, and which functions
 * executed them, JavaScript ones included.
 *
 * `valgrind --tool=callgrind` counts every instruction a process executes
 * in user space. Unlike CPU seconds, the count leaves out the kernel and
 * the time spent waiting: on a quiet machine two runs of the same server
 * under the same load agree to a fraction of a percent (bench/instructions.ts
 * says when they do not). Callgrind knows the names of Node's and V8's C++
 * functions from the binary; the
 * machine code V8 compiles from JavaScript has none, so Node is started
 * with `--perf-basic-prof`, which writes `/tmp/perf-PID.map` (one line per
 * compiled function: start address, size, name), and the profile's
 * addresses are looked up there.
 *
 * @module
 */
import { readFileSync } from 'node:fs';

/** A profile read from one callgrind dump. */
export interface Profile {
  /** Every instruction the dump counted. */
  total: number;
  /** Instructions executed in each function itself (its callees not included), by name. */
  byFunction: Map<string, number>;
}

/** One compiled JavaScript function's code, from a perf map. */
export interface CodeRange {
  /** Its first address. */
  start: number;
  /** The address after its last byte. */
  end: number;
  /** V8's name for it, e.g. `JS:*broadcast /…/room.ts:2:1710` (`*`: optimised). */
  name: string;
}

/**
 * Parses a perf map (`START SIZE NAME` per line, hexadecimal numbers).
 *
 * @param text - the map file's content
 * @returns the ranges, sorted by start address
 */
export function parsePerfMap(text: string): CodeRange[] {
  const ranges: CodeRange[] = [];
  for (const line of text.split('\n')) {
    const match = /^([0-9a-f]+) ([0-9a-f]+) (.+)$/i.exec(line);
    if (match === null) continue;
    const start = parseInt(match[1]!, 16);
    ranges.push({ start, end: start + parseInt(match[2]!, 16), name: match[3]! });
  }
  return ranges.sort((a, b) => a.start - b.start);
}

// The range holding `address` (binary search), or undefined.
function rangeAt(ranges: CodeRange[], address: number): CodeRange | undefined {
  let low = 0;
  let high = ranges.length - 1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    const range = ranges[middle]!;
    if (address < range.start) high = middle - 1;
    else if (address >= range.end) low = middle + 1;
    else return range;
  }
  return undefined;
}

/**
 * Parses a callgrind dump written with `--dump-instr=yes --compress-pos=no
 * --compress-strings=no` (every cost line starts with its instruction's
 * address, every name is spelled out). A cost line right after `calls=` is
 * the cost of that call, already counted in the callee, so it is skipped.
 * A function callgrind could not name (`0x…`) is looked up in `perfMap`.
 *
 * @param dump - the dump file's content
 * @param perfMap - the server's perf map ({@link parsePerfMap}); may be empty
 */
export function parseCallgrind(dump: string, perfMap: CodeRange[]): Profile {
  const byFunction = new Map<string, number>();
  let total = 0;
  let fn = '';
  let unnamed = false;
  let callCost = false;
  for (const line of dump.split('\n')) {
    if (line.startsWith('0x')) {
      if (callCost) {
        callCost = false;
        continue;
      }
      const [address, , cost] = line.split(' ');
      const count = Number(cost ?? 0);
      total += count;
      const name = unnamed ? (rangeAt(perfMap, parseInt(address!, 16))?.name ?? fn) : fn;
      byFunction.set(name, (byFunction.get(name) ?? 0) + count);
    } else if (line.startsWith('calls=')) {
      callCost = true;
    } else if (line.startsWith('fn=')) {
      fn = line.slice(3).trim();
      unnamed = /^0x[0-9a-f]+$/i.test(fn);
    }
  }
  return { total, byFunction };
}

/**
 * Reads a dump and its perf map from disk ({@link parseCallgrind}).
 *
 * @param dumpFile - the callgrind dump
 * @param perfMapFile - the perf map, or null if there is none
 */
export function readProfile(dumpFile: string, perfMapFile: string | null): Profile {
  const perfMap = perfMapFile === null ? [] : parsePerfMap(readFileSync(perfMapFile, 'utf8'));
  return parseCallgrind(readFileSync(dumpFile, 'utf8'), perfMap);
}
