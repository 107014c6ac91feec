// node-ipc.js: Node's cluster IPC, measured the way bench-messages measures lesson 05's channel.
//
//     node bench/messages/node-ipc.js [ROUND_TRIPS] [BIG_MESSAGES] [WORKER_CPU]    (bench/messages/run runs it)
//
// The primary forks one worker with cluster.fork(); the worker echoes every message with process.send().
// One message in flight at a time: ROUND_TRIPS small messages {type:'ping', n} (round trips per second),
// then BIG_MESSAGES messages with a 1 MiB payload (MiB/s of payload, both directions counted).
// WORKER_CPU: the worker runs on that CPU only (every thread of it: Node has no affinity API, so `taskset -a -p`),
// the primary on whatever `taskset` gave it.
// Prints one event line: `bench impl=node round_trips_per_s=R mib_per_s=B`.
'use strict';
const cluster = require('node:cluster');

if (cluster.isPrimary) {
  const roundTrips = Number(process.argv[2] || 20000);
  const bigMessages = Number(process.argv[3] || 200);
  const payload = 'x'.repeat(1024 * 1024);
  const worker = cluster.fork({ WORKER_CPU: process.argv[4] || '' });

  // Sends count messages made by make(i), each after the previous one's echo; resolves with the seconds taken.
  const measure = (count, make) => new Promise((resolve) => {
    let sent = 0;
    const begin = process.hrtime.bigint();
    const onMessage = () => {
      if (sent < count) return worker.send(make(sent++));
      worker.off('message', onMessage);
      resolve(Number(process.hrtime.bigint() - begin) / 1e9);
    };
    worker.on('message', onMessage);
    worker.send(make(sent++));
  });

  worker.once('online', async () => {
    await measure(200, (n) => ({ type: 'ping', n }));  // warm up
    const smallS = await measure(roundTrips, (n) => ({ type: 'ping', n }));
    const bigS = await measure(bigMessages, (n) => ({ type: 'big', n, payload }));
    console.log(`bench impl=node round_trips_per_s=${Math.floor(roundTrips / smallS)} ` +
                `mib_per_s=${Math.floor((2 * bigMessages) / bigS)}`);
    worker.disconnect();  // Node's shutdown: the worker exits 0 once its channel closes
  });
} else {
  if (process.env.WORKER_CPU) {
    require('node:child_process').execFileSync('taskset', ['-a', '-c', '-p', process.env.WORKER_CPU, String(process.pid)],
                                                { stdio: 'ignore' });
  }
  process.on('message', (message) => process.send(message));
}
