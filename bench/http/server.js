// server.js: the seed's express cluster (shared/seed/node-cluster-lesson.md, "server.js"), copied as it is,
// for bench/http/run to measure. Two changes, both marked "bench:": the port comes from $PORT (the seed's
// fixed 5000 is the default; PORT=0 picks a free one) and the host from $HOST (unset: all interfaces, as in
// the seed; the benchmark sets 127.0.0.1). bench/http/bench-hooks.js, preloaded with `node -r`, reports
// readiness and stops it; this file knows nothing about the benchmark.
const cluster = require("cluster");
const process = require("process");
// if this is the primary process
// -> create 2 child processses
if (cluster.isPrimary) {
  console.log("this is the primary", process.pid);
  cluster.fork();
  cluster.fork();
} else {
  // start the server
  // this is just a minimal express server
  require("express")()
    .get("/", (req, res) => {
      res.send("<h1>Hi 👋</h1>");
    })
    // bench: port and host from the environment (the seed: .listen(5000, console.log(`Listening`)))
    .listen(Number(process.env.PORT ?? 5000), process.env.HOST, console.log(`Listening`));
}

cluster.on("exit", () => {
  console.log(`this process stopped ${process.pid}`);
  cluster.fork();
});
