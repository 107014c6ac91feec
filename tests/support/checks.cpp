// Checks shared by several lessons' autograders. See checks.hpp.
#include "checks.hpp"

#include "catch.hpp"

#include <csignal>
#include <string>

namespace clusterkit::testing {

void check_worker_lifecycles(const Run& run, std::size_t workers) {
    const auto forks = run.events_named("fork");
    REQUIRE(forks.size() == workers);
    for (const auto& fork : forks) {
        const auto id = fork.number("id");
        INFO("worker id " << id);
        const long forked = run.index_of("fork", id);
        const long online = run.index_of("online", id);
        const long exited = run.index_of("exit", id);
        REQUIRE(online > forked);
        REQUIRE(exited > online);
        const auto exit_event = *Event::parse(run.stdout_lines[static_cast<std::size_t>(exited)]);
        CHECK(exit_event.number("pid") == fork.number("pid"));
        CHECK(exit_event.text("code") == "0");
    }
    CHECK(run.events_named("online").size() == workers);
    CHECK(run.events_named("exit").size() == workers);
    REQUIRE_FALSE(run.stdout_lines.empty());
    CHECK(run.stdout_lines.back() == "done");
}

void check_usage_error(const Run& run, std::string_view program) {
    CHECK(run.status_is_code(2));
    const auto errors = run.stderr_lines();
    REQUIRE(errors.size() == 1);
    CHECK(errors.front().starts_with(std::string(program) + ": error: "));
    CHECK(run.events_named("fork").empty());
    CHECK(run.left_behind.empty());
}

std::string check_runtime_error(const Run& run, std::string_view program) {
    CHECK(run.status_is_code(1));
    const auto errors = run.stderr_lines();
    REQUIRE(errors.size() == 1);
    CHECK(errors.front().starts_with(std::string(program) + ": error: "));
    return errors.front();
}

void check_stops_cleanly_on_sigterm(Program& program) {
    program.send_signal(SIGTERM);
    const auto status = program.wait_exit();
    INFO(program.transcript());
    REQUIRE(status.has_value());
    CHECK(status->describe() == "exited with code 0");
    CHECK(program.left_behind().empty());
    program.read_to_end();
    REQUIRE_FALSE(program.stdout_lines().empty());
    CHECK(program.stdout_lines().back().text == "done");
}

}  // namespace clusterkit::testing
