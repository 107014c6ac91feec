// bench/http/profile's load: exactly COUNT requests `GET /` to 127.0.0.1:PORT over CONNECTIONS connections, one
// request at a time on each, with keep-alive (one connection carries many requests) or `Connection: close` (a new
// connection per request). A fixed number of requests, not a duration, so that a profiler's count of
// instructions divides by a known number. Every answer must be 200 with a Content-Length body; it exits 1 otherwise.
//
// usage: node count-client.js PORT COUNT keep-alive|close [CONNECTIONS]
"use strict";
const net = require("node:net");

const [port, count, mode, connections = "1"] = process.argv.slice(2);
const total = Number(count);
const parallel = Number(connections);
if (!(Number(port) > 0) || !(total > 0) || !["keep-alive", "close"].includes(mode) || !(parallel > 0)) {
  console.error("usage: node count-client.js PORT COUNT keep-alive|close [CONNECTIONS]");
  process.exit(1);
}
const request = Buffer.from(
  `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n${mode === "close" ? "Connection: close\r\n" : ""}\r\n`);

let started = 0;
let answered = 0;

function fail(message) {
  console.error(`count-client: ${message} (after ${answered} answers)`);
  process.exit(1);
}

// completeAnswer(buffer): the length of the first whole response in buffer (its status checked), or 0.
function completeAnswer(buffer) {
  const end = buffer.indexOf("\r\n\r\n");
  if (end < 0) return 0;
  const head = buffer.toString("latin1", 0, end);
  if (!head.startsWith("HTTP/1.1 200 ")) fail(`unexpected answer: ${JSON.stringify(head.split("\r\n")[0])}`);
  const length = /\r\ncontent-length: *(\d+)/i.exec(head);
  if (!length) fail("an answer without Content-Length");
  const size = end + 4 + Number(length[1]);
  return buffer.length >= size ? size : 0;
}

// One connection: sends a request, waits for its whole answer, and sends the next (keep-alive) or ends.
function connect() {
  const socket = net.connect(Number(port), "127.0.0.1");
  socket.setNoDelay(true);
  let pending = Buffer.alloc(0);
  const next = () => {
    if (started >= total) return socket.end();
    started += 1;
    socket.write(request);
  };
  socket.on("connect", next);
  socket.on("data", (chunk) => {
    pending = Buffer.concat([pending, chunk]);
    const size = completeAnswer(pending);
    if (size === 0) return;
    pending = pending.subarray(size);
    answered += 1;
    if (mode === "keep-alive") return next();
    socket.destroy();
    if (started < total) connect();
  });
  socket.on("error", (error) => fail(error.message));
}

for (let i = 0; i < Math.min(parallel, total); i += 1) connect();
process.on("exit", (code) => {
  if (code === 0 && answered !== total) {
    console.error(`count-client: ${answered} of ${total} answered`);
    process.exitCode = 1;
  }
});
