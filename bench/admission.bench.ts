// Admission control's cost: what one call pays to take and give back a slot of an Ollama tier (KvTierSlots over a
// real local nats-server), uncontended and with three "processes" (connections) sharing a tier of 3 slots while
// 24 callers hold each slot 5 ms. Reported per call: wall time of acquire + release, the KV writes it took, and the
// CPU of this process (client side) and of nats-server. No target: the figure is set beside a model call
// (hundreds of ms) in docs/inference.md.
import { connect, type NatsConnection } from 'nats';
import { KvTierSlots } from '@argus/messaging';
import { startNats } from '../test/support/nats-harness';
import {
  cpuSeconds,
  loadAverage,
  percentile,
  printTable,
  round,
  runBench,
  writeResults,
} from './bench-support';

const UNCONTENDED_CALLS = Number(process.env.BENCH_ADMISSION_CALLS ?? 2000);
const CONTENDED_CALLS = 600;
const CALLERS = 24;
const CAPACITY = 3;
const HOLD_MS = 5;

async function main(): Promise<void> {
  const nats = await startNats({ mode: 'local' });
  const connections: NatsConnection[] = [];
  const pools: KvTierSlots[] = [];
  try {
    const open = async (tier: string, capacity: number) => {
      const connection = await connect({ servers: nats.url });
      connections.push(connection);
      const pool = new KvTierSlots(connection, { tier, capacity, leaseTtlMs: 15_000 });
      pools.push(pool);
      await pool.start();
      return pool;
    };
    const never = new AbortController().signal;
    const serverPid = nats.pid;

    // Uncontended: one process, one caller, a slot always free.
    const solo = await open('solo', CAPACITY);
    for (let i = 0; i < 100; i++) await (await solo.acquire(0, never))?.release();
    const soloMs: number[] = [];
    const cpu0 = process.cpuUsage();
    const server0 = cpuSeconds(serverPid) ?? 0;
    for (let i = 0; i < UNCONTENDED_CALLS; i++) {
      const started = performance.now();
      const lease = await solo.acquire(0, never);
      await lease?.release();
      soloMs.push(performance.now() - started);
    }
    const cpu1 = process.cpuUsage(cpu0);
    const server1 = cpuSeconds(serverPid) ?? 0;

    // Contended: three processes, 24 callers, 3 slots.
    const shared = [
      await open('shared', CAPACITY),
      await open('shared', CAPACITY),
      await open('shared', CAPACITY),
    ];
    const waitMs: number[] = [];
    let next = 0;
    const cpu2 = process.cpuUsage();
    const server2 = cpuSeconds(serverPid) ?? 0;
    const contendedStarted = performance.now();
    await Promise.all(
      Array.from({ length: CALLERS }, async (_, caller) => {
        const pool = shared[caller % shared.length];
        while (next < CONTENDED_CALLS) {
          next++;
          const started = performance.now();
          const lease = await pool.acquire(30_000, never);
          if (!lease) throw new Error('no slot in 30 s');
          waitMs.push(performance.now() - started);
          await new Promise((resolve) => setTimeout(resolve, HOLD_MS));
          await lease.release();
        }
      }),
    );
    const contendedSeconds = (performance.now() - contendedStarted) / 1000;
    const cpu3 = process.cpuUsage(cpu2);
    const server3 = cpuSeconds(serverPid) ?? 0;

    const perCall = (usage: NodeJS.CpuUsage, calls: number) => (usage.user + usage.system) / 1000 / calls;
    const result = {
      uncontended: {
        calls: UNCONTENDED_CALLS,
        acquireReleaseP50Ms: round(percentile(soloMs, 50), 3),
        acquireReleaseP99Ms: round(percentile(soloMs, 99), 3),
        clientCpuMsPerCall: round(perCall(cpu1, UNCONTENDED_CALLS), 3),
        natsServerCpuMsPerCall: round(((server1 - server0) * 1000) / UNCONTENDED_CALLS, 3),
      },
      contended: {
        calls: CONTENDED_CALLS,
        processes: shared.length,
        callers: CALLERS,
        capacity: CAPACITY,
        holdMs: HOLD_MS,
        waitP50Ms: round(percentile(waitMs, 50), 2),
        waitP99Ms: round(percentile(waitMs, 99), 2),
        /** Calls per second the 3 slots served, against the ideal of capacity / hold time. */
        throughputPerSecond: round(CONTENDED_CALLS / contendedSeconds, 1),
        idealPerSecond: round((CAPACITY * 1000) / HOLD_MS, 1),
        clientCpuMsPerCall: round(perCall(cpu3, CONTENDED_CALLS), 3),
        natsServerCpuMsPerCall: round(((server3 - server2) * 1000) / CONTENDED_CALLS, 3),
      },
      load: loadAverage(),
    };
    printTable(
      'Admission control: one slot of an Ollama tier, taken and given back through NATS KV',
      ['case', 'p50 ms', 'p99 ms', 'client CPU ms/call', 'nats-server CPU ms/call'],
      [
        [
          'uncontended acquire + release',
          result.uncontended.acquireReleaseP50Ms,
          result.uncontended.acquireReleaseP99Ms,
          result.uncontended.clientCpuMsPerCall,
          result.uncontended.natsServerCpuMsPerCall,
        ],
        [
          `wait for a slot: ${CALLERS} callers, 3 processes, ${CAPACITY} slots held ${HOLD_MS} ms`,
          result.contended.waitP50Ms,
          result.contended.waitP99Ms,
          result.contended.clientCpuMsPerCall,
          result.contended.natsServerCpuMsPerCall,
        ],
      ],
    );
    process.stdout.write(
      `\ncontended throughput ${result.contended.throughputPerSecond}/s of an ideal ${result.contended.idealPerSecond}/s\n`,
    );
    writeResults('admission', result);
  } finally {
    await Promise.all(pools.map((pool) => pool.stop()));
    await Promise.all(connections.map((connection) => connection.close()));
    await nats.stop();
  }
}

runBench(main);
