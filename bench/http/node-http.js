// node-http.js: Node's cluster with the plain `http` module (no express), serving what lesson 06 serves:
// `GET /` answers 200 `<h1>Hi 👋</h1>` as text/html; charset=utf-8 with an X-Worker-Pid header.
//
//     PORT=0 HOST=127.0.0.1 WORKERS=2 node -r ./bench-hooks.js node-http.js      (bench/http/run runs it)
//
// The primary forks WORKERS workers (default 2); every worker listens on PORT (0: one free port, shared by
// all workers through the primary, Node's default round-robin scheduling on Linux).
'use strict';
const cluster = require('node:cluster');
const http = require('node:http');

if (cluster.isPrimary) {
  const workers = Number(process.env.WORKERS || 2);
  for (let i = 0; i < workers; i++) cluster.fork();
} else {
  const body = Buffer.from('<h1>Hi 👋</h1>');
  http.createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/') {
      res.writeHead(200, {
        'Content-Type': 'text/html; charset=utf-8',
        'Content-Length': body.length,
        'X-Worker-Pid': process.pid,
      });
      res.end(body);
    } else {
      res.writeHead(404, { 'Content-Length': 0 });
      res.end();
    }
  }).listen(Number(process.env.PORT || 0), process.env.HOST || '127.0.0.1');
}
