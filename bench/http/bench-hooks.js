// bench-hooks.js: what bench/http/run needs from a Node cluster server, preloaded with
// `node -r ./bench-hooks.js server.js` so that server.js (the seed's) and node-http.js stay plain servers.
// Acts in the primary only (the workers load it too, through process.execArgv, and ignore it):
//   - prints the event line `worker listening pid=P port=N` each time a worker listens: the run script
//     waits for one line per worker (all workers ready, so the load is spread from its first connection);
//   - on SIGTERM stops the workers, waits until each has exited (reaped), then exits 0: nothing is left
//     behind, not even a zombie (on a machine whose pid 1 does not reap orphans).
'use strict';
const cluster = require('node:cluster');

if (cluster.isPrimary) {
  cluster.on('listening', (worker, address) => {
    console.log(`worker listening pid=${worker.process.pid} port=${address.port}`);
  });

  process.once('SIGTERM', () => {
    // The seed's primary forks a new worker on every 'exit': a stop must not be answered with new workers.
    cluster.removeAllListeners('exit');
    const running = Object.values(cluster.workers).filter((worker) => !worker.isDead());
    if (running.length === 0) process.exit(0);
    let left = running.length;
    cluster.on('exit', () => { if (--left === 0) process.exit(0); });
    for (const worker of running) worker.process.kill('SIGTERM');
  });
}
