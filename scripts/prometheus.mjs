// Finds `prometheus` and `promtool` (the rule tests and the observability e2e test need both), or installs the Debian
// package `prometheus` when this is a root shell with apt-get, or says exactly what is missing. Safe to run repeatedly.
// The package's install script would start a Prometheus service on :9090; a temporary policy-rc.d forbids that, and
// anything left listening on 9090 by the install is stopped, so the tests own every Prometheus they talk to.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { aptInstall, fail, findOnPath, log, ROOT } from './setup.mjs';

export const PROMETHEUS_HELP = `prometheus and promtool are required by the alert-rule tests and the observability e2e test.
  Debian/Ubuntu: sudo apt-get install -y --no-install-recommends prometheus
  macOS:         brew install prometheus
  Other:         download a release from the prometheus/prometheus project and put prometheus and promtool on PATH`;

const POLICY_RC_D = '/usr/sbin/policy-rc.d';

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { cwd: ROOT, stdio: 'inherit', ...options });
  return result.status === 0;
}

function found() {
  const prometheus = findOnPath('prometheus');
  const promtool = findOnPath('promtool');
  return prometheus && promtool ? { prometheus, promtool } : undefined;
}

function listening(port) {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** apt-get install with services forbidden from starting (policy-rc.d exit 101), restoring the policy after. */
function aptInstallWithoutStartingServices(packages) {
  const ownPolicy = !existsSync(POLICY_RC_D);
  if (ownPolicy) {
    writeFileSync(
      POLICY_RC_D,
      '#!/bin/sh\n# written by argus scripts/prometheus.mjs during apt-get install\nexit 101\n',
    );
    chmodSync(POLICY_RC_D, 0o755);
  }
  try {
    return aptInstall(packages, { extraArgs: ['--no-install-recommends'] });
  } finally {
    if (ownPolicy) rmSync(POLICY_RC_D, { force: true });
  }
}

/**
 * @returns {Promise<{ prometheus: string, promtool: string }>}
 */
export async function ensurePrometheus() {
  const present = found();
  if (present) return present;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (findOnPath('apt-get') && isRoot) {
    log('prometheus/promtool not found; installing the Debian package prometheus with apt-get…');
    const wasListening = await listening(9090);
    if (aptInstallWithoutStartingServices(['prometheus'])) {
      // Should a service manager have started it anyway, stop the packaged service: nothing of ours may listen on 9090.
      if (!wasListening && (await listening(9090))) {
        log('the prometheus package started a service on :9090; stopping it');
        if (!run('service', ['prometheus', 'stop'], { stdio: 'ignore' }))
          run('systemctl', ['stop', 'prometheus'], { stdio: 'ignore' });
      }
      const installed = found();
      if (installed) return installed;
    }
  }
  fail(PROMETHEUS_HELP);
}
