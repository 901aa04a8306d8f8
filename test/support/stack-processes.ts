// The processes a spawned stack runs (scripts/start.mjs's children), read from /proc: e2e tests kill them, watch their
// memory and check that they survived. Linux only, like the tests that use it.
import { readdirSync, readFileSync } from 'node:fs';

export interface StackChild {
  pid: number;
  /** The process's command line, arguments joined by spaces. */
  cmdline: string;
  /** Its environment, as the stack gave it (HTTP_PORT tells worker replicas apart). */
  env: Map<string, string>;
}

/** The children of `parent` (the stack's start.mjs) alive now; processes that end while being read are skipped. */
export function stackChildren(parent: number | undefined): StackChild[] {
  const children: StackChild[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== parent) continue;
      const env = new Map<string, string>();
      for (const variable of readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0')) {
        const equals = variable.indexOf('=');
        if (equals > 0) env.set(variable.slice(0, equals), variable.slice(equals + 1));
      }
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ');
      children.push({ pid: Number(entry), cmdline, env });
    } catch {
      // the process ended while we looked
    }
  }
  return children;
}

/** Worker replicas by the HTTP_PORT each was given. */
export function childPidsByHttpPort(parent: number | undefined): Map<number, number> {
  const found = new Map<number, number>();
  for (const child of stackChildren(parent)) {
    const port = child.env.get('HTTP_PORT');
    if (port) found.set(Number(port), child.pid);
  }
  return found;
}

/** Resident memory of a process in bytes (VmRSS), or undefined once it is gone. */
export function rssBytes(pid: number): number | undefined {
  try {
    const match = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a process with this pid exists (signal 0 checks without sending anything). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
