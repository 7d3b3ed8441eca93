// Runs a server script in N processes on one port with node's cluster module, as the hub's bench
// runs every target with --workers N.
//   BENCH_WORKERS=N node workers.mjs <script.mjs> [args...]
// The primary forks N workers running <script.mjs> with the same arguments and environment; each
// worker's listen() is handed to the primary, which accepts the connections and deals them out in
// turn (round-robin, node's default on Linux; Hive Gateway's CLI `--fork` is this same mechanism).
// With BENCH_READY_DIR set, a file named by its pid is put there once each worker listens.
// SIGTERM or SIGINT is passed on to every worker; the primary exits once they all have. A worker
// that dies unasked takes the others down with it: a bench must not measure fewer workers than it says.
import cluster from 'node:cluster';
import { writeFileSync } from 'node:fs';
import path from 'node:path';

const [script, ...args] = process.argv.slice(2);
const count = Number(process.env.BENCH_WORKERS ?? '1');
if (!script || !Number.isInteger(count) || count < 1) {
  console.error('usage: BENCH_WORKERS=N node workers.mjs <script.mjs> [args...]  (N a whole number >= 1)');
  process.exit(2);
}

cluster.setupPrimary({ exec: script, args });
let stopping = false;
for (let i = 0; i < count; i++) cluster.fork();
// BENCH_READY_DIR: a file per worker once it listens (the bench measures nothing before every one serves).
const ready = process.env.BENCH_READY_DIR;
cluster.on('listening', (worker) => {
  if (ready) writeFileSync(path.join(ready, String(worker.process.pid)), '');
});
cluster.on('exit', (worker, code, signal) => {
  if (!stopping) {
    console.error(`workers.mjs: worker ${worker.process.pid} exited (${signal ?? code}); stopping the others`);
    stopping = true;
    for (const other of Object.values(cluster.workers)) other?.process.kill('SIGTERM');
    process.exitCode = 1;
  }
  if (Object.keys(cluster.workers).length === 0) process.exit();
});
for (const name of ['SIGTERM', 'SIGINT']) {
  process.on(name, () => {
    stopping = true;
    for (const worker of Object.values(cluster.workers)) worker?.process.kill(name);
  });
}
