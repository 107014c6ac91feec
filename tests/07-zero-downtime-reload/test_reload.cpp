// Lesson 07's autograder: the contract of `lesson07` (lessons/07-zero-downtime-reload/README.md): every worker
// says ready; SIGHUP replaces the workers one at a time, each new one ready before the old one drains, while a
// client's requests all succeed; a deploy on disk is what a reload runs; a new worker that fails aborts the
// reload and the old ones serve on; SIGHUPs during a reload are queued, one at most; SIGTERM stops it all.
// Faults come from worker programs deployed on disk (tests/support/deploy.hpp), never from sleeps.
#include "catch.hpp"

#include "checks.hpp"
#include "deploy.hpp"
#include "http_client.hpp"
#include "program.hpp"
#include "steady_client.hpp"

#include <algorithm>
#include <csignal>
#include <map>
#include <set>

using namespace clusterkit::testing;
using clusterkit::Event;
using clusterkit::Field;

namespace {

constexpr std::string_view greeting = "<h1>Hi \xF0\x9F\x91\x8B</h1>";  // the seed's page: <h1>Hi 👋</h1>

// lesson07 on a free port, listening, with all its workers accepting (each says so on stdout: lesson 06's
// `worker id=I pid=P`; the primary's `ready` lines are the first test's business).
struct Server {
    Program program;
    unsigned short port = 0;
    std::map<long long, pid_t> workers;  // the pid of each id, from the workers' lines

    explicit Server(int count, std::vector<std::string> more = {})
        : program("lesson07", {.args = with_workers(count, std::move(more))}) {
        const auto listening = program.wait_for_event("listening");
        INFO(program.transcript());
        REQUIRE(listening.has_value());
        port = static_cast<unsigned short>(listening->number("port"));
        for (int i = 0; i < count; ++i) {
            const auto accepting = program.wait_for_event("worker");
            INFO(program.transcript());
            REQUIRE(accepting.has_value());
            workers[accepting->number("id")] = static_cast<pid_t>(accepting->number("pid"));
        }
    }

    std::set<pid_t> pids() const {
        std::set<pid_t> found;
        for (const auto& [id, pid] : workers) found.insert(pid);
        return found;
    }
    long find(std::string_view name, const std::vector<Field>& fields = {}, std::size_t from = 0) const {
        return find_event(program.stdout_lines(), name, fields, from);
    }
    // How many event lines `name` there are at line `from` or after.
    long count(std::string_view name, std::size_t from) const {
        long found = 0;
        for (long at = find(name, {}, from); at >= 0; at = find(name, {}, static_cast<std::size_t>(at) + 1)) ++found;
        return found;
    }
    // The pid of the first `fork id=I` line after line `from`, and that line's index; {0, -1} if none.
    std::pair<pid_t, long> forked(long long id, std::size_t from) const {
        const long at = find("fork", {{"id", id}}, from);
        if (at < 0) return {0, -1};
        return {static_cast<pid_t>(Event::parse(program.stdout_lines()[static_cast<std::size_t>(at)].text)->number("pid")), at};
    }
    // Waits for the event line `name` with these fields, or finds it among the lines already read.
    bool saw(std::string_view name, const std::vector<Field>& fields) {
        return find(name, fields) >= 0 || program.wait_for_event_with(name, fields).has_value();
    }
    bool wait_for_exit_of(pid_t pid) { return saw("exit", {{"pid", pid}}); }

    static std::vector<std::string> with_workers(int count, std::vector<std::string> more) {
        std::vector<std::string> args{"--workers", std::to_string(count), "--port", "0"};
        args.insert(args.end(), more.begin(), more.end());
        return args;
    }
};

std::vector<std::string> exec(const Deployment& release, std::vector<std::string> more = {}) {
    more.insert(more.begin(), {"--exec", release.current()});
    return more;
}

bool has_bit_the_dust(const Server& server) {
    return std::ranges::any_of(server.program.stdout_lines(), [](const Line& line) { return line.text.ends_with("bit the dust"); });
}

// GET / on a new connection: answered by one of `pids`.
void check_answered_by(const Server& server, const std::set<pid_t>& pids) {
    const auto response = http_request(server.port, "GET", "/");
    INFO(server.program.transcript() << response.describe());
    CHECK(response.status == 200);
    CHECK(pids.contains(response.worker_pid()));
}

}  // namespace

TEST_CASE("every worker says ready once it accepts, and the primary prints ready id=I pid=P for it", "[07][ready]") {
    Server server(2);
    for (const auto& [id, pid] : server.workers) REQUIRE(server.saw("ready", {{"id", id}, {"pid", pid}}));
    INFO(server.program.transcript());
    for (const auto& [id, pid] : server.workers) {
        const long online = server.find("online", {{"id", id}, {"pid", pid}});
        const long accepts = server.find("worker", {{"id", id}, {"pid", pid}});
        const long ready = server.find("ready", {{"id", id}, {"pid", pid}});
        CHECK(online >= 0);
        CHECK(accepts >= 0);
        CHECK(ready > accepts);  // the worker writes its line before it tells the primary
    }
    check_answered_by(server, server.pids());

    // A replacement after a crash says ready too.
    REQUIRE(signal_descendant(server.workers.at(2), SIGKILL));
    REQUIRE(server.wait_for_exit_of(server.workers.at(2)));
    const auto fork = server.program.wait_for_event_with("fork", {{"id", 2}});  // the first after that exit
    REQUIRE(fork.has_value());
    CHECK(server.saw("ready", {{"id", 2}, {"pid", fork->number("pid")}}));
    check_stops_cleanly_on_sigterm(server.program);
}

TEST_CASE("SIGHUP replaces every worker one at a time, each new one ready before the old one is drained",
          "[07][reload]") {
    Server server(2);
    server.program.send_signal(SIGHUP);
    REQUIRE(server.program.wait_for_event_with("reload-end", {{"generation", 1}}).has_value());
    for (const pid_t old : server.pids()) CHECK(server.wait_for_exit_of(old));

    INFO(server.program.transcript());
    const long begin = server.find("reload-begin", {{"generation", 1}});
    REQUIRE(begin >= 0);
    std::map<long long, long> ready_at;
    for (const auto& [id, old] : server.workers) {
        INFO("worker " << id);
        const auto [successor, forked_at] = server.forked(id, static_cast<std::size_t>(begin));
        REQUIRE(forked_at > begin);
        ready_at[id] = server.find("ready", {{"id", id}, {"pid", successor}});
        const long old_exit = server.find("exit", {{"pid", old}});
        CHECK(ready_at[id] > forked_at);
        CHECK(old_exit > ready_at[id]);  // drained only once its successor was ready
        CHECK(server.find("exit", {{"pid", old}, {"code", 0}}) == old_exit);
    }
    // One at a time: worker 2's successor starts once worker 1's is ready.
    CHECK(server.forked(2, static_cast<std::size_t>(begin)).second > ready_at[1]);
    CHECK(server.find("reload-end", {{"generation", 1}}) > ready_at[2]);
    check_stops_cleanly_on_sigterm(server.program);
    // A drained worker is not replaced: its successor takes its id over, and no other process starts.
    CHECK(server.count("fork", static_cast<std::size_t>(begin)) == 2);
}

TEST_CASE("a client sending requests through two reloads in a row sees no failed request, and afterwards every "
          "worker pid is new", "[07][reload]") {
    Server server(2);
    SteadyClient client(server.port, std::string(greeting));
    REQUIRE(client.wait_for_requests(20));

    std::set<pid_t> old = server.pids();
    std::set<pid_t> now;
    for (int generation = 1; generation <= 2; ++generation) {
        server.program.send_signal(SIGHUP);
        const auto end = server.program.wait_for_event_with("reload-end", {{"generation", generation}});
        INFO(server.program.transcript());
        REQUIRE(end.has_value());
        const long begin = server.find("reload-begin", {{"generation", generation}});
        now.clear();
        for (long long id = 1; id <= 2; ++id) now.insert(server.forked(id, static_cast<std::size_t>(begin)).first);
        for (const pid_t pid : old) REQUIRE(server.wait_for_exit_of(pid));
        old = now;
    }
    const auto last_exit = server.program.stdout_lines().back().time;  // the last old worker had ended by then
    for (const pid_t pid : now) CHECK(client.wait_for_answer_from(pid));
    const auto before_stop = client.outcomes().size();
    CHECK(client.wait_for_requests(before_stop + 20));
    client.stop();

    INFO(server.program.transcript());
    const auto outcomes = client.outcomes();
    for (const auto& failure : client.failures()) FAIL_CHECK("a request failed: " << failure.error);
    std::set<pid_t> first;
    for (const auto& [id, pid] : server.workers) first.insert(pid);
    for (const pid_t pid : now) CHECK_FALSE(first.contains(pid));
    for (const auto& outcome : outcomes)
        if (outcome.sent > last_exit) CHECK(now.contains(outcome.pid));  // every answer now comes from a new worker
    check_stops_cleanly_on_sigterm(server.program);
}

TEST_CASE("after the worker program is replaced on disk, a reload runs the new program", "[07][deploy]") {
    Deployment release;
    const auto build_1 = program_path("lesson07-worker");
    release.deploy(build_1);
    Server server(2, exec(release));
    for (const pid_t pid : server.pids()) CHECK(program_inode(pid) == file_inode(build_1));

    const auto build_2 = release.copy(build_1, "release-2");  // another file: a new build
    release.deploy(build_2);
    server.program.send_signal(SIGHUP);
    REQUIRE(server.program.wait_for_event_with("reload-end", {{"generation", 1}}).has_value());
    const long begin = server.find("reload-begin", {{"generation", 1}});
    INFO(server.program.transcript());
    std::set<pid_t> successors;
    for (long long id = 1; id <= 2; ++id) {
        const pid_t successor = server.forked(id, static_cast<std::size_t>(begin)).first;
        CHECK(program_inode(successor) == file_inode(build_2));
        successors.insert(successor);
    }
    for (const pid_t old : server.pids()) REQUIRE(server.wait_for_exit_of(old));
    for (int i = 0; i < 10; ++i) check_answered_by(server, successors);
    check_stops_cleanly_on_sigterm(server.program);
}

TEST_CASE("a new worker that never says ready within --ready-timeout-ms aborts the reload and the old workers "
          "serve on", "[07][abort]") {
    Deployment release;
    release.deploy(program_path("lesson07-worker"));
    Server server(1, exec(release, {"--ready-timeout-ms", "300"}));
    release.deploy(release.script("never-ready", "exec '" + test_child_path().string() + "' forever"));

    server.program.send_signal(SIGHUP);
    const auto abort = server.program.wait_for_any_event({"reload-abort", "reload-end"});
    INFO(server.program.transcript());
    REQUIRE(abort.has_value());
    CHECK(abort->name == "reload-abort");
    CHECK(abort->number("generation") == 1);
    const long begin = server.find("reload-begin", {{"generation", 1}});
    const pid_t successor = server.forked(1, static_cast<std::size_t>(std::max(0L, begin))).first;
    REQUIRE(begin >= 0);
    REQUIRE(successor > 0);
    CHECK(server.find("ready", {{"pid", successor}}) < 0);
    CHECK(server.wait_for_exit_of(successor));  // it was stopped

    // The old worker still serves: with one worker, nobody else could answer.
    check_answered_by(server, server.pids());
    CHECK(server.find("exit", {{"pid", server.workers.at(1)}}) < 0);
    check_stops_cleanly_on_sigterm(server.program);  // stderr is read to its end only then
    const auto& errors = server.program.stderr_text();
    CHECK(errors.starts_with("lesson07: error: new worker 1 (pid " + std::to_string(successor) +
                             ") was not ready within 300 ms"));
    CHECK(std::ranges::count(errors, '\n') == 1);
}

TEST_CASE("a new worker that dies at start or cannot be started aborts the reload and the old workers serve on",
          "[07][abort]") {
    Deployment release;
    release.deploy(program_path("lesson07-worker"));
    // A long ready timeout: the abort must come from the failure itself, not from the timer.
    Server server(1, exec(release, {"--ready-timeout-ms", "60000"}));
    std::string expected_error;
    SECTION("a new worker that dies at start") {
        release.deploy(release.script("crashes", "exit 3"));
        expected_error = "lesson07: error: new worker 1 (pid ";
    }
    SECTION("a new worker program that cannot be started") {
        release.deploy(release.dir() / "no-such-program");
        expected_error = "lesson07: error: cannot start a new worker 1: ";
    }
    server.program.send_signal(SIGHUP);
    const auto abort = server.program.wait_for_any_event({"reload-abort", "reload-end"});
    INFO(server.program.transcript());
    REQUIRE(abort.has_value());
    CHECK(abort->name == "reload-abort");
    check_answered_by(server, server.pids());
    CHECK_FALSE(has_bit_the_dust(server));  // a new worker that failed is not restarted
    check_stops_cleanly_on_sigterm(server.program);  // stderr is read to its end only then
    CHECK(server.program.stderr_text().starts_with(expected_error));
    CHECK(std::ranges::count(server.program.stderr_text(), '\n') == 1);
}

TEST_CASE("a SIGHUP during a reload is queued, at most one, and reloads never overlap", "[07][queue]") {
    Deployment release;
    release.deploy(program_path("lesson07-worker"));
    Server server(2, exec(release));
    Gate gate(release.dir() / "gate");
    release.deploy(release.script("gated", gate.wait_then_exec(program_path("lesson07-worker"))));

    server.program.send_signal(SIGHUP);
    REQUIRE(server.program.wait_for_event_with("reload-begin", {{"generation", 1}}).has_value());
    REQUIRE(server.program.wait_for_event_with("fork", {{"id", 1}}).has_value());  // waiting at the gate
    for (int extra = 0; extra < 2; ++extra) {
        server.program.send_signal(SIGHUP);
        const auto queued = server.program.wait_for_any_event({"reload-queued", "reload-begin"});
        INFO(server.program.transcript());
        REQUIRE(queued.has_value());
        CHECK(queued->to_string() == "reload-queued generation=2");
    }
    gate.open(4);  // two new workers for each of the two reloads
    CHECK(server.program.wait_for_event_with("reload-end", {{"generation", 2}}).has_value());
    check_stops_cleanly_on_sigterm(server.program);

    std::vector<std::string> reloads;
    for (const auto& line : server.program.stdout_lines())
        if (line.text.starts_with("reload-begin") || line.text.starts_with("reload-end")) reloads.push_back(line.text);
    const std::vector<std::string> expected{"reload-begin generation=1", "reload-end generation=1",
                                            "reload-begin generation=2", "reload-end generation=2"};
    CHECK(reloads == expected);
}

TEST_CASE("while a new worker starts the old one serves, and SIGTERM then stops both and the primary exits 0",
          "[07][stop]") {
    Deployment release;
    release.deploy(program_path("lesson07-worker"));
    Server server(1, exec(release));
    Gate gate(release.dir() / "gate");
    release.deploy(release.script("gated", gate.wait_then_exec(program_path("lesson07-worker"))));

    server.program.send_signal(SIGHUP);
    REQUIRE(server.program.wait_for_event_with("reload-begin", {{"generation", 1}}).has_value());
    const auto fork = server.program.wait_for_event_with("fork", {{"id", 1}});
    INFO(server.program.transcript());
    REQUIRE(fork.has_value());
    check_answered_by(server, server.pids());  // the only worker still accepts while its successor starts
    // ... and it is not drained: its successor never said ready. (The wait ends once the program stands still.)
    CHECK_FALSE(server.program.wait_for_event_with("exit", {{"pid", server.workers.at(1)}},
                                                   std::chrono::milliseconds(1500)).has_value());

    check_stops_cleanly_on_sigterm(server.program);
    CHECK(server.find("exit", {{"pid", server.workers.at(1)}, {"code", 0}}) >= 0);
    CHECK(server.find("exit", {{"pid", fork->number("pid")}}) >= 0);
    CHECK(server.program.stderr_text().empty());
}
