// Lesson 06's autograder: the contract of `lesson06` (lessons/06-http-workers/README.md): one port served by
// N worker processes over HTTP/1.1 with keep-alive; the seed's page, 404, 405 and 400 without harm to anyone
// else; connections spread over the workers; a killed worker replaced while clients keep coming; SIGTERM
// drains; clear errors. Requests go through the small Beast client in tests/support/http_client.hpp.
#include "catch.hpp"

#include "checks.hpp"
#include "http_client.hpp"
#include "program.hpp"
#include "steady_client.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <csignal>
#include <map>
#include <memory>
#include <set>

using namespace clusterkit::testing;
using clusterkit::Event;

namespace {

constexpr std::string_view greeting = "<h1>Hi \xF0\x9F\x91\x8B</h1>";  // the seed's page: <h1>Hi 👋</h1>

// lesson06 on a free port, listening, with all its workers online.
struct Server {
    Program program;
    unsigned short port = 0;
    std::map<long long, pid_t> workers;  // pid by id

    explicit Server(int count, std::vector<std::string> more = {})
        : program("lesson06", {.args = with_workers(count, std::move(more))}) {
        const auto listening = program.wait_for_event("listening");
        INFO(program.transcript());
        REQUIRE(listening.has_value());
        port = static_cast<unsigned short>(listening->number("port"));
        for (int i = 0; i < count; ++i) {
            const auto online = program.wait_for_event("online");
            INFO(program.transcript());
            REQUIRE(online.has_value());
            workers[online->number("id")] = static_cast<pid_t>(online->number("pid"));
        }
    }

    bool is_worker(pid_t pid) const {
        return std::ranges::any_of(workers, [&](const auto& worker) { return worker.second == pid; });
    }

    static std::vector<std::string> with_workers(int count, std::vector<std::string> more) {
        std::vector<std::string> args{"--workers", std::to_string(count), "--port", "0"};
        args.insert(args.end(), more.begin(), more.end());
        return args;
    }
};

void check_greeting(const HttpResponse& response) {
    INFO(response.describe());
    CHECK(response.status == 200);
    CHECK(response.body == greeting);
    CHECK(response.header("Content-Type") == "text/html; charset=utf-8");
    CHECK(response.header("Content-Length") == std::to_string(greeting.size()));
}

// Stops lesson06 with SIGTERM and requires exit status 0 after `done`.
// Stops the server with SIGTERM and checks that it ends well. The test's own connections are closed first:
// a drain gives each idle one a second for one more request, which only the drain's own tests wait for.
void stop_cleanly(Server& server, std::initializer_list<HttpClient*> open_connections = {}) {
    for (auto* connection : open_connections) connection->close();
    server.program.send_signal(SIGTERM);
    const auto status = server.program.wait_exit();
    server.program.read_to_end();
    INFO(server.program.transcript());
    REQUIRE(status.has_value());
    CHECK(status->describe() == "exited with code 0");
    REQUIRE_FALSE(server.program.stdout_lines().empty());
    CHECK(server.program.stdout_lines().back().text == "done");
}

}  // namespace

TEST_CASE("GET / answers 200 with the seed's page as text/html and the worker's pid in X-Worker-Pid", "[06][http]") {
    Server server(2);
    const auto response = http_request(server.port, "GET", "/");
    INFO(server.program.transcript());
    check_greeting(response);
    CHECK(server.is_worker(response.worker_pid()));
    // `listening port=P` first, with the port the kernel picked; then `primary`.
    const auto& lines = server.program.stdout_lines();
    REQUIRE(lines.size() >= 2);
    CHECK(lines[0].text == "listening port=" + std::to_string(server.port));
    CHECK(lines[1].text.starts_with("primary pid=" + std::to_string(server.program.pid()) + " workers=2"));
    stop_cleanly(server);
}

TEST_CASE("an unknown path is 404 and a method other than GET or HEAD is 405 with an Allow header naming both", "[06][http]") {
    Server server(1);
    HttpClient client(server.port);
    SECTION("404") {
        const auto response = client.request("GET", "/no/such/page");
        INFO(response.describe());
        CHECK(response.status == 404);
        CHECK(response.worker_pid() == server.workers.at(1));
    }
    SECTION("405") {
        for (const auto* method : {"POST", "DELETE", "PUT"}) {
            const auto response = client.request(method, "/");
            INFO(method << ": " << response.describe());
            CHECK(response.status == 405);
            CHECK(response.header("Allow") == "GET, HEAD");
            CHECK(response.worker_pid() == server.workers.at(1));
        }
    }
    // Neither answer ends the connection.
    check_greeting(client.request("GET", "/"));
    stop_cleanly(server, {&client});
}

TEST_CASE("HEAD is answered like GET without the body: the same headers and Content-Length", "[06][http]") {
    Server server(1);
    HttpClient client(server.port);
    const auto get = client.request("GET", "/");
    const auto head = client.request("HEAD", "/");
    INFO(server.program.transcript() << head.describe());
    CHECK(head.status == 200);
    CHECK(head.header("Content-Type") == get.header("Content-Type"));
    CHECK(head.header("Content-Length") == std::to_string(greeting.size()));
    CHECK(head.worker_pid() == server.workers.at(1));
    CHECK(head.keep_alive);
    // The next answer on this connection is read from its first byte: no body followed HEAD's headers.
    check_greeting(client.request("GET", "/"));
    const auto work = client.request("HEAD", "/work?ms=0");
    CHECK(work.status == 200);
    CHECK(work.header("Content-Length") == std::to_string(std::string_view("worked ms=0\n").size()));
    const auto missing = client.request("HEAD", "/no/such/page");
    CHECK(missing.status == 404);
    check_greeting(client.request("GET", "/"));
    stop_cleanly(server, {&client});
}

TEST_CASE("a malformed request gets 400 and disturbs neither another connection nor the worker", "[06][http]") {
    Server server(1);
    HttpClient bystander(server.port);
    check_greeting(bystander.request("GET", "/"));

    HttpClient offender(server.port);
    offender.send_raw("\x01\x02 this is not HTTP\r\n\r\n");
    const auto response = offender.read_response();
    INFO(server.program.transcript() << response.describe());
    CHECK(response.status == 400);
    CHECK(response.worker_pid() == server.workers.at(1));
    CHECK(offender.wait_closed());

    // The other connection, on the same (only) worker, goes on; so do new ones; nobody was replaced.
    const auto after = bystander.request("GET", "/");
    check_greeting(after);
    CHECK(after.worker_pid() == server.workers.at(1));
    check_greeting(http_request(server.port, "GET", "/"));
    CHECK(server.program.events_named("exit").empty());
    stop_cleanly(server, {&bystander, &offender});
}

TEST_CASE("one keep-alive connection carries many requests", "[06][keep-alive]") {
    Server server(2);
    HttpClient client(server.port);
    std::set<pid_t> pids;
    for (int i = 0; i < 100; ++i) {
        const auto response = client.request("GET", "/");
        INFO("request " << i + 1 << ": " << response.describe());
        REQUIRE(response.status == 200);
        REQUIRE(response.keep_alive);
        pids.insert(response.worker_pid());
    }
    CHECK(pids.size() == 1);  // one connection, one worker
    CHECK(server.is_worker(*pids.begin()));
    stop_cleanly(server, {&client});
}

TEST_CASE("requests with Connection: close are served by at least two different workers", "[06][sharing]") {
    Server server(2);
    std::map<pid_t, int> answered;
    // How connections spread over the workers is up to the kernel and is often uneven: ask until both answered.
    const auto until = Clock::now() + default_deadline;
    for (int i = 0; i < 5000 && answered.size() < 2 && Clock::now() < until; ++i) {
        const auto response = http_request(server.port, "GET", "/");
        INFO("request " << i + 1 << ": " << response.describe());
        REQUIRE(response.status == 200);
        REQUIRE(server.is_worker(response.worker_pid()));
        ++answered[response.worker_pid()];
    }
    INFO(server.program.transcript());
    CHECK(answered.size() == 2);
    stop_cleanly(server);
}

TEST_CASE("a worker killed with SIGKILL under load is replaced and every request after that succeeds",
          "[06][respawn]") {
    Server server(2);
    SteadyClient client(server.port, std::string(greeting));
    REQUIRE(client.wait_for_requests(20));

    const pid_t victim = server.workers.at(2);
    REQUIRE(signal_descendant(victim, SIGKILL));
    const auto exit = server.program.wait_for_event("exit");
    const auto fork = server.program.wait_for_event("fork");
    const auto online = server.program.wait_for_event("online");
    INFO(server.program.transcript());
    REQUIRE(exit.has_value());
    CHECK(exit->number("pid") == victim);
    CHECK(exit->text("signal") == "SIGKILL");
    REQUIRE(fork.has_value());
    CHECK(fork->number("id") == 2);
    // Between the exit and the replacement's fork, the seed's free-text line.
    const auto& lines = server.program.stdout_lines();
    CHECK(std::ranges::any_of(lines, [&](const Line& line) { return line.text == std::to_string(victim) + " bit the dust"; }));
    REQUIRE(online.has_value());
    CHECK(online->number("id") == 2);
    const auto replacement = static_cast<pid_t>(online->number("pid"));
    CHECK(replacement != victim);
    const auto online_at = server.program.stdout_lines().back().time;  // when the test read the online line

    CHECK(client.wait_for_answer_from(replacement));  // the replacement serves
    const auto before_stop = client.outcomes().size();
    CHECK(client.wait_for_requests(before_stop + 20));
    client.stop();

    int failures = 0;
    for (const auto& outcome : client.outcomes()) {
        if (outcome.error.empty()) {
            CHECK((outcome.pid == server.workers.at(1) || outcome.pid == victim || outcome.pid == replacement));
            continue;
        }
        ++failures;
        INFO("a request failed: " << outcome.error);
        CHECK(outcome.sent < online_at);  // a request sent after the replacement was online must succeed
    }
    // One client, one request at a time: only the request that the killed worker held may be lost.
    CHECK(failures <= 1);
    stop_cleanly(server);
}

TEST_CASE("SIGTERM lets a slow request in flight finish, closes idle connections, then the server exits 0",
          "[06][drain]") {
    // A long grace period: the worker must end on its own, however slowly a loaded machine lets it work.
    Server server(1, {"--grace-ms", "30000"});
    HttpClient idle(server.port);
    check_greeting(idle.request("GET", "/"));
    HttpClient slow(server.port);
    check_greeting(slow.request("GET", "/"));  // the worker has accepted this connection

    // The request and the SIGTERM both reach the worker while it is stopped: when it goes on, it finds both,
    // whatever the scheduler does, and the request was sent first.
    const pid_t worker = server.workers.at(1);
    REQUIRE(signal_descendant(worker, SIGSTOP));
    slow.send_request("GET", "/work?ms=300");
    REQUIRE(signal_descendant(worker, SIGTERM));  // as the primary is about to
    server.program.send_signal(SIGTERM);
    REQUIRE(signal_descendant(worker, SIGCONT));
    HttpResponse response;
    try {
        response = slow.read_response();
    } catch (const HttpError& error) {
        server.program.wait_exit();
        FAIL("the slow request got no answer: " << error.what() << '\n' << server.program.transcript());
    }
    INFO(server.program.transcript() << response.describe());
    CHECK(response.status == 200);
    CHECK(response.body == "worked ms=300\n");
    CHECK_FALSE(response.keep_alive);  // the worker is draining: this connection ends here
    CHECK(slow.wait_closed());
    CHECK(idle.wait_closed());

    const auto status = server.program.wait_exit();
    server.program.read_to_end();
    INFO(server.program.transcript());
    REQUIRE(status.has_value());
    CHECK(status->describe() == "exited with code 0");
    const auto exits = server.program.events_named("exit");
    REQUIRE(exits.size() == 1);
    CHECK(exits.front().text("code") == "0");  // the worker drained and exited; it was not killed
    CHECK(server.program.stdout_lines().back().text == "done");
    CHECK_THROWS_AS(HttpClient(server.port), HttpError);  // nobody listens any more
}

TEST_CASE("a port already in use is a one-line error, exit 1, and no worker starts", "[06][errors]") {
    boost::asio::io_context context;
    boost::asio::ip::tcp::acceptor taken(context, {boost::asio::ip::make_address("127.0.0.1"), 0});
    const auto port = std::to_string(taken.local_endpoint().port());
    const auto run = run_to_end("lesson06", {.args = {"--workers", "2", "--port", port}});
    INFO(run.transcript());
    const auto error = check_runtime_error(run, "lesson06");
    CHECK(error.find(port) != std::string::npos);
    CHECK(error.find("in use") != std::string::npos);
    CHECK(run.events_named("fork").empty());
    CHECK(run.left_behind.empty());
}

TEST_CASE("a bad host or a worker program that cannot start is a one-line error", "[06][errors]") {
    SECTION("a host that is not an address is a usage error, exit 2") {
        const auto run = run_to_end("lesson06", {.args = {"--workers", "1", "--port", "0", "--host", "not.an.address"}});
        INFO(run.transcript());
        check_usage_error(run, "lesson06");
        CHECK(run.stderr_text.find("not.an.address") != std::string::npos);
    }
    SECTION("an address of no interface here cannot be listened on, exit 1") {
        const auto run = run_to_end("lesson06", {.args = {"--workers", "1", "--port", "0", "--host", "192.0.2.1"}});
        INFO(run.transcript());
        CHECK(check_runtime_error(run, "lesson06").starts_with("lesson06: error: cannot listen on 192.0.2.1:0"));
        CHECK(run.events_named("fork").empty());
        CHECK(run.left_behind.empty());
    }
    SECTION("a worker program that cannot be run is named, exit 1") {
        const auto run = run_to_end("lesson06", {.args = {"--workers", "2", "--port", "0", "--exec", "/no/such/worker"}});
        INFO(run.transcript());
        CHECK(check_runtime_error(run, "lesson06").find("/no/such/worker") != std::string::npos);
        CHECK(run.events_named("fork").empty());
        CHECK(run.left_behind.empty());
    }
}

TEST_CASE("GET /work?ms=M answers worked ms=M for M from 0 up, and 400 for an M that is missing, negative, too "
          "large or not a number",
          "[06][http]") {
    Server server(1);
    HttpClient client(server.port);
    for (const auto ms : {0, 25}) {
        const auto response = client.request("GET", "/work?ms=" + std::to_string(ms));
        INFO(response.describe());
        CHECK(response.status == 200);
        CHECK(response.body == "worked ms=" + std::to_string(ms) + "\n");
        CHECK(response.worker_pid() == server.workers.at(1));
    }
    for (const auto* target : {"/work", "/work?ms=", "/work?ms=-1", "/work?ms=60001", "/work?ms=abc", "/work?ms=5x"}) {
        const auto response = client.request("GET", target);
        INFO(target << ": " << response.describe());
        CHECK(response.status == 400);
        CHECK(response.worker_pid() == server.workers.at(1));
    }
    // Nothing of that ends the connection or the worker.
    check_greeting(client.request("GET", "/"));
    CHECK(server.program.events_named("exit").empty());
    stop_cleanly(server, {&client});
}

TEST_CASE("GET /work?ms=60000, the upper end, is worked on, and a worker still busy after --grace-ms is killed",
          "[06][drain]") {
    Server server(1, {"--grace-ms", "300"});
    HttpClient client(server.port);
    check_greeting(client.request("GET", "/"));  // accepted: the worker has this connection
    client.send_request("GET", "/work?ms=60000");
    server.program.send_signal(SIGTERM);
    // A refusal (400) would come at once; the work would take a minute: the grace period ends it first.
    CHECK_THROWS_AS(client.read_response(), HttpError);
    const auto status = server.program.wait_exit();
    server.program.read_to_end();
    INFO(server.program.transcript());
    REQUIRE(status.has_value());
    const auto exits = server.program.events_named("exit");
    REQUIRE(exits.size() == 1);
    CHECK(exits.front().text("signal") == "SIGKILL");
    CHECK(server.program.stdout_lines().back().text == "done");
}

TEST_CASE("a worker answers its other connections while /work runs: the work goes in slices", "[06][event-loop]") {
    Server server(1);
    HttpClient working(server.port, "127.0.0.1", 30s);  // 600 ms of CPU take longer on a busy machine
    HttpClient other(server.port);
    check_greeting(working.request("GET", "/"));
    check_greeting(other.request("GET", "/"));
    // The other request is sent once the worker has spent 50 ms of CPU on the /work request (the kernel sends
    // no event about that): it is in the middle of the work, whichever order its event loop runs handlers in.
    const pid_t worker = server.workers.at(1);
    const auto before = cpu_time_ns(worker);
    working.send_request("GET", "/work?ms=600");
    REQUIRE(look_until([&] { return cpu_time_ns(worker) - before >= 50'000'000; }, 30s));
    other.send_request("GET", "/");
    check_greeting(other.read_response());
    CHECK_FALSE(working.has_bytes_waiting());  // the 600 ms of work are not done yet
    const auto worked = working.read_response();
    CHECK(worked.body == "worked ms=600\n");
    stop_cleanly(server, {&working, &other});
}

TEST_CASE("a request with Connection: close, or in HTTP/1.0, is answered with Connection: close and the "
          "connection ends",
          "[06][keep-alive]") {
    Server server(1);
    {
        HttpClient client(server.port);
        const auto response = client.request("GET", "/", Connection::close);
        check_greeting(response);
        CHECK_FALSE(response.keep_alive);
        CHECK(client.wait_closed());
    }
    {
        HttpClient client(server.port);
        client.send_raw("GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
        const auto response = client.read_response();
        check_greeting(response);
        CHECK_FALSE(response.keep_alive);
        CHECK(client.wait_closed());
    }
    stop_cleanly(server);
}

TEST_CASE("a request body of up to 64 KiB is read, and a larger one gets 400 and a closed connection",
          "[06][http]") {
    Server server(1);
    const auto head_for = [](std::size_t bytes) {
        return "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: " + std::to_string(bytes) + "\r\n\r\n";
    };
    HttpClient fits(server.port);
    fits.send_raw(head_for(64 * 1024) + std::string(64 * 1024, 'x'));
    check_greeting(fits.read_response());

    // The head alone: Content-Length already says the body is too large. A body sent as well would still be
    // arriving when the server closes, and closing a socket with unread bytes resets the connection (RST):
    // the client's send fails with EPIPE, and the 400 may be lost with it.
    HttpClient too_large(server.port);
    too_large.send_raw(head_for(64 * 1024 + 1));
    const auto response = too_large.read_response();
    INFO(response.describe());
    CHECK(response.status == 400);
    CHECK_FALSE(response.keep_alive);
    CHECK(too_large.wait_closed());
    check_greeting(fits.request("GET", "/"));  // the other connection goes on
    stop_cleanly(server, {&fits, &too_large});
}

TEST_CASE("connections that arrive while no worker accepts wait in the queue, and the replacement of a killed "
          "worker serves them",
          "[06][respawn]") {
    Server server(1);
    const pid_t stopped = server.workers.at(1);
    REQUIRE(signal_descendant(stopped, SIGSTOP));  // it accepts nothing now
    std::vector<std::unique_ptr<HttpClient>> waiting;
    for (int i = 0; i < 16; ++i) {
        waiting.push_back(std::make_unique<HttpClient>(server.port));  // the kernel completes the handshake
        waiting.back()->send_request("GET", "/", Connection::close);
    }
    REQUIRE(signal_descendant(stopped, SIGKILL));
    for (auto& client : waiting) {
        const auto response = client->read_response();
        check_greeting(response);
        CHECK(response.worker_pid() != stopped);
    }
    const auto exit = server.program.wait_for_event("exit");
    INFO(server.program.transcript());
    REQUIRE(exit.has_value());
    CHECK(exit->number("pid") == stopped);
    stop_cleanly(server);
}

TEST_CASE("during a drain a new connection is refused at once: the primary and the worker have closed the "
          "listening socket",
          "[06][drain]") {
    Server server(1, {"--grace-ms", "30000"});
    HttpClient slow(server.port, "127.0.0.1", 30s);  // 600 ms of CPU take longer on a busy machine
    check_greeting(slow.request("GET", "/"));
    const auto listening = listening_socket(server.port);
    REQUIRE_FALSE(listening.empty());
    // The request and the SIGTERM reach the stopped worker: when it goes on, it has both to handle.
    const pid_t worker = server.workers.at(1);
    REQUIRE(signal_descendant(worker, SIGSTOP));
    slow.send_request("GET", "/work?ms=600");  // long enough for the test to look at /proc while it runs
    REQUIRE(signal_descendant(worker, SIGTERM));  // as the primary is about to
    server.program.send_signal(SIGTERM);
    REQUIRE(signal_descendant(worker, SIGCONT));
    // Closed once neither holds a descriptor of it (the kernel sends no event about that).
    const bool closed = look_until([&] {
        return !has_descriptor(server.program.pid(), listening) && !has_descriptor(worker, listening);
    }, default_deadline);
    // Hold the worker in the middle of its slow request: the server is still stopping, not gone.
    REQUIRE(signal_descendant(worker, SIGSTOP));
    CHECK(closed);
    CHECK_THROWS_AS(HttpClient(server.port), HttpError);
    REQUIRE(signal_descendant(worker, SIGCONT));
    const auto response = slow.read_response();
    CHECK(response.body == "worked ms=600\n");
    const auto status = server.program.wait_exit();
    server.program.read_to_end();
    INFO(server.program.transcript());
    REQUIRE(status.has_value());
    CHECK(status->describe() == "exited with code 0");
}

// (No ': ' in a test's name near its end: Catch2 2's console reporter loops for ever on such a failure.)
TEST_CASE("during a drain an idle connection is given a second for one more request, which is answered before the "
          "connection closes",
          "[06][drain]") {
    Server server(1, {"--grace-ms", "30000"});
    HttpClient idle(server.port);
    check_greeting(idle.request("GET", "/"));  // answered: the connection waits for its next request
    const auto listening = listening_socket(server.port);
    REQUIRE_FALSE(listening.empty());
    const pid_t worker = server.workers.at(1);
    server.program.send_signal(SIGTERM);
    // The worker has drained once it no longer holds the listening socket and sleeps again (or is gone): its
    // drain() has returned. The kernel sends no event about either.
    REQUIRE(look_until([&] {
        const char state = process_state(worker);
        return !has_descriptor(worker, listening) && (state == 'S' || state == 'Z' || state == '\0');
    }, default_deadline));
    HttpResponse response;
    try {
        response = idle.request("GET", "/");  // well within its second
    } catch (const HttpError& error) {
        server.program.wait_exit();
        FAIL("the request after the drain got no answer: " << error.what() << '\n' << server.program.transcript());
    }
    check_greeting(response);
    CHECK(response.worker_pid() == worker);
    CHECK_FALSE(response.keep_alive);  // the last answer on this connection
    CHECK(idle.wait_closed());
    const auto status = server.program.wait_exit();
    server.program.read_to_end();
    INFO(server.program.transcript());
    REQUIRE(status.has_value());
    CHECK(status->describe() == "exited with code 0");
    const auto exits = server.program.events_named("exit");
    REQUIRE(exits.size() == 1);
    CHECK(exits.front().text("code") == "0");
}

TEST_CASE("a worker program that dies at once, again and again, is a crash loop: after 5 restarts one error "
          "line, exit 1",
          "[06][errors]") {
    // The test child with no steps exits 0 at once, as a worker that cannot serve would.
    const auto run = run_to_end("lesson06", {.args = {"--workers", "1", "--port", "0", "--exec", test_child_path().string()}});
    INFO(run.transcript());
    CHECK(check_runtime_error(run, "lesson06").find("crash loop") != std::string::npos);
    CHECK(run.events_named("fork").size() == 6);  // the first worker and 5 replacements
    CHECK(run.events_named("exit").size() == 6);
    REQUIRE_FALSE(run.stdout_lines.empty());
    CHECK(run.stdout_lines.back() == "done");
    CHECK(run.left_behind.empty());
}
