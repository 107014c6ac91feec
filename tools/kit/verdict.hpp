// The verdict of `kit verify`: which checks pass, and for the first failing one what was expected, what the
// program did (its event lines and stderr, trimmed) and where the lesson text teaches it.
#pragma once

#include "check.hpp"
#include "repo.hpp"

#include <iosfwd>
#include <string>
#include <vector>

namespace clusterkit::kit {

// One failed test case's JUnit text (see junit.hpp), taken apart.
struct Failure {
    std::string assertion;              // "CHECK( run.status_is_code(0) )"
    std::string expansion;              // "false", "0 == 3"
    std::vector<std::string> context;   // INFO() lines: the program's transcript, trimmed, and other notes
    std::string location;               // "tests/01-fork-per-cpu/test_fork_per_cpu.cpp:43"
    int more = 0;                       // further failed assertions in the same test case
};
Failure parse_failure(const std::string& text, const fs::path& root);

struct VerdictOptions {
    bool verbose = false;  // the whole failure text of every failing check, untrimmed
    bool color = false;
};
bool terminal_wants_color();

// A check, printed; returns nothing: the exit status is the caller's (0 only when passing).
void print_verdict(std::ostream& out, const fs::path& root, const Lesson& lesson, const LessonCheck& check,
                   const VerdictOptions& options);

// "lessons/01-fork-per-cpu/README.md#forking-a-worker (line 42)" for the test's rubric section, or "".
std::string lesson_pointer(const fs::path& root, const Lesson& lesson, const std::string& test_name);

}  // namespace clusterkit::kit
