// The verdict of `kit verify`: which checks pass, and for the first failing one what was expected, what the
// program did (its event lines and stderr, trimmed) and where the lesson text teaches it. Drawn from the
// test's record (pipeline.hpp's CaseResult), never from a report's text.
#pragma once

#include "check.hpp"
#include "repo.hpp"

#include <iosfwd>
#include <string>
#include <vector>

namespace clusterkit::kit {

// Why a test case failed, for people, in lines: the failed assertion (expected, but got), the notes and the
// program run it is about (trimmed), further failed assertions counted, where the check is. Paths under
// `root` are made relative. The same text for the terminal and a grade's report.
std::vector<std::string> failure_lines(const CaseResult& result, const fs::path& root);

// Where the lesson text teaches a failed case, the line after its failure_lines() in `kit verify` and in
// every file of `kit grade`: "read:      <lesson_pointer>", or "" when the rubric gives no section.
std::string read_line(const fs::path& root, const Lesson& lesson, const std::string& test_name);

// The program run a failed case is about: the one named by its first failure's messages, else the last one
// started before that failure, else the longest; nullptr when the case started none.
const record::ProgramRun* run_of_interest(const CaseResult& result);

struct VerdictOptions {
    bool verbose = false;  // the test program's whole output for every failing check, untrimmed
    bool color = false;
};
bool terminal_wants_color();

// A check, printed; returns nothing: the exit status is the caller's (0 only when passing).
void print_verdict(std::ostream& out, const fs::path& root, const Lesson& lesson, const LessonCheck& check,
                   const VerdictOptions& options);

// "lessons/01-fork-per-cpu/README.md#forking-a-worker (line 42)" for the test's rubric section, or "".
std::string lesson_pointer(const fs::path& root, const Lesson& lesson, const std::string& test_name);

}  // namespace clusterkit::kit
