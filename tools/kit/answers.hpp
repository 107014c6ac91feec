// The answers of the kit's TODOs, line by line: every non-trivial line that a solution file has and its
// starter file lacks. No file a student receives may hold one (a release, the lesson texts, hints, docs,
// lib/): `kit release` refuses to write such a release and `kit lint` (run by `kit selftest`, so by CI)
// fails, naming the file, the line and the text.
//
// Which lines count, so that the check finds answers and not idioms:
//   - non-trivial: trimmed, at least 20 characters, with a letter or digit, and not boilerplate (an
//     #include, a short `return ...;`, `} else {`, a line that starts with `}`, a plain declaration such as
//     `boost::system::error_code error;`);
//   - not given code: a line that any starter file has, or that two or more of the kit's other source files
//     (lib/, tests/, tools/) have, is handed out already (lessons build on earlier ones) or an idiom;
//   - found where it answers: in a file, two or more answer lines in a row, or one of 40 characters or more.
//     A single short line (`const pid_t pid = ::fork();`) is the shape of an API, which a text may show.
// Lines are compared trimmed, with runs of white space as one space, so indentation in a Markdown code block
// hides nothing.
#pragma once

#include "repo.hpp"

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace clusterkit::kit {

// `line` trimmed, with each run of white space made one space.
std::string normalized(std::string_view line);

// Whether a normalized line is too common to answer anything.
bool is_trivial(std::string_view line);

// The answer lines of the checkout at `root`: normalized text -> where the solution has it
// ("solutions/03-exit-handling/supervisor.cpp:31").
using AnswerLines = std::map<std::string, std::string, std::less<>>;
AnswerLines answer_lines(const fs::path& root, const std::vector<std::string>& files);

struct Leak {
    std::string file;    // relative to the root
    int line = 0;
    std::string text;    // the line as the file has it, trimmed
    std::string answer;  // where the solution has it
};

// Every line of `files` (relative to `root`; binary files skipped) that is an answer line.
std::vector<Leak> find_leaks(const fs::path& root, const std::vector<std::string>& files, const AnswerLines& answers);

// "lessons/06-http-workers/README.md:150: `...` answers solutions/06-http-workers/main.cpp:40"
std::string describe(const Leak& leak);

}  // namespace clusterkit::kit
