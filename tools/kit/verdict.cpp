// The verdict of `kit verify`. See verdict.hpp.
#include "verdict.hpp"

#include <cstdlib>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <unistd.h>

namespace clusterkit::kit {

namespace {

constexpr std::size_t max_line = 150;  // longer lines are cut
constexpr std::size_t keep_head = 10;  // of a long block of output: the first lines...
constexpr std::size_t keep_tail = 4;   // ...and the last ones

std::string cut(std::string line) {
    if (line.size() > max_line) line = line.substr(0, max_line) + " ...";
    return line;
}

// A long text as lines of at most max_line characters, broken at spaces (a word longer than that stays whole).
std::vector<std::string> wrapped(const std::string& text) {
    std::vector<std::string> lines{""};
    std::istringstream words(text);
    for (std::string word; words >> word;) {
        if (!lines.back().empty() && lines.back().size() + 1 + word.size() > max_line) lines.emplace_back();
        lines.back() += (lines.back().empty() ? "" : " ") + word;
    }
    return lines;
}

// A source file as the checkout names it: Catch2 gives the path the compiler was given, absolute or relative
// to the build folder (build/starter, build/grading/...), which is inside the checkout.
std::string relative_to(std::string path, const fs::path& root) {
    const std::string prefix = root.string() + "/";
    if (path.starts_with(prefix)) return path.substr(prefix.size());
    while (path.starts_with("../")) path.erase(0, 3);
    return path;
}

// A block of output, indented, kept short: a long one keeps its head and its tail.
void add_block(std::vector<std::string>& out, const std::vector<std::string>& block, const std::string& indent) {
    for (std::size_t i = 0; i < block.size(); ++i) {
        if (block.size() > keep_head + keep_tail + 1 && i == keep_head) {
            out.push_back(indent + "... " + std::to_string(block.size() - keep_head - keep_tail) + " more lines ...");
            i = block.size() - keep_tail;
        }
        out.push_back(indent + cut(block[i]));
    }
}

void add_run(std::vector<std::string>& out, const record::ProgramRun& run) {
    out.push_back("your program: " + run.command + " (pid " + std::to_string(run.pid) + "), " + run.ended);
    // The check's last wait on it that ended without what it waited for: what it was, how long, and why it
    // ended (a standstill, the deadline).
    if (!run.gave_up.empty()) {
        const auto lines = wrapped(run.gave_up);
        for (std::size_t i = 0; i < lines.size(); ++i) out.push_back((i == 0 ? "  " : "    ") + lines[i]);
    }
    std::vector<std::string> stdout_lines;
    for (const auto& line : run.lines) stdout_lines.push_back(line.text);
    out.push_back(stdout_lines.empty() ? "  stdout: (nothing)" : "  stdout:");
    add_block(out, stdout_lines, "    ");
    if (run.lines_dropped > 0) out.push_back("    (and " + std::to_string(run.lines_dropped) + " more lines)");
    const auto errors = nonempty_lines(run.stderr_text);
    out.push_back(errors.empty() ? "  stderr: (nothing)" : "  stderr:");
    add_block(out, errors, "    ");
    if (!run.left_behind.empty()) out.push_back("  left behind: " + run.left_behind);
}

const record::ProgramRun* run_numbered(const CaseResult& result, int number) {
    for (const auto& run : result.record.runs)
        if (run.number == number) return &run;
    return nullptr;
}

struct Paint {
    bool on;
    std::string operator()(const char* code, const std::string& text) const {
        return on ? std::string("\033[") + code + "m" + text + "\033[0m" : text;
    }
};

}  // namespace

const record::ProgramRun* run_of_interest(const CaseResult& result) {
    const auto& runs = result.record.runs;
    if (runs.empty()) return nullptr;
    if (!result.record.failures.empty()) {
        const auto& failure = result.record.failures.front();
        for (const auto& message : failure.messages)
            if (const auto* run = run_numbered(result, message.run)) return run;
        const record::ProgramRun* latest = nullptr;
        for (const auto& run : runs)
            if (run.started_ms <= failure.ms && (!latest || run.started_ms >= latest->started_ms)) latest = &run;
        if (latest) return latest;
    }
    return &*std::ranges::max_element(runs, {}, [](const auto& run) { return run.lines.size(); });
}

std::vector<std::string> failure_lines(const CaseResult& result, const fs::path& root) {
    std::vector<std::string> out(result.problems.begin(), result.problems.end());
    const auto& failures = result.record.failures;
    if (!failures.empty()) {
        const auto& failure = failures.front();
        if (!failure.expression.empty()) {
            out.push_back("expected:  " + failure.macro + "( " + failure.expression + " )");
            if (!failure.expansion.empty() && failure.expansion != failure.expression)
                out.push_back("but got:   " + cut(failure.expansion));
            if (!failure.message.empty()) out.push_back("and:       " + cut(failure.message));
        } else {
            out.push_back("failed:    " + (failure.macro.empty() ? "an unexpected exception" : failure.macro) +
                          (failure.message.empty() ? "" : ": " + cut(failure.message)));
        }
        std::string sections;
        for (const auto& section : failure.sections) sections += (sections.empty() ? "" : " > ") + section;
        if (!sections.empty()) out.push_back("in:        " + sections);
        for (const auto& message : failure.messages) add_block(out, nonempty_lines(message.text), "note: ");
    }
    if (const auto* run = run_of_interest(result)) add_run(out, *run);
    if (failures.size() > 1)
        out.push_back("(and " + std::to_string(failures.size() - 1) + " more failed assertion(s) in this check)");
    if (!failures.empty() && !failures.front().file.empty())
        out.push_back("the check: " + relative_to(failures.front().file, root) + ":" +
                      std::to_string(failures.front().line));
    return out;
}

std::string read_line(const fs::path& root, const Lesson& lesson, const std::string& test_name) {
    const auto pointer = lesson_pointer(root, lesson, test_name);
    return pointer.empty() ? "" : "read:      " + pointer;
}

bool terminal_wants_color() {
    const char* term = std::getenv("TERM");
    return ::isatty(STDOUT_FILENO) && !std::getenv("NO_COLOR") && term && std::string(term) != "dumb";
}

std::string lesson_pointer(const fs::path& root, const Lesson& lesson, const std::string& test_name) {
    try {
        const auto rubric = read_rubric(root, lesson);
        const auto* entry = rubric ? rubric->find(test_name) : nullptr;
        if (!entry || entry->section.empty()) return {};
        const auto text = lesson.text(root);
        std::string pointer = fs::relative(text, root).string() + "#" + github_anchor(entry->section);
        if (const auto line = heading_line(text, entry->section)) pointer += " (line " + std::to_string(*line) + ")";
        return pointer;
    } catch (const std::exception&) {
        return {};  // a broken rubric is the grader's problem; the student still gets the verdict
    }
}

void print_verdict(std::ostream& out, const fs::path& root, const Lesson& lesson, const LessonCheck& check,
                   const VerdictOptions& options) {
    const Paint paint{options.color};
    const auto folder = student_tree() / lesson.slug;
    out << paint("1", "lesson " + lesson.number + ": " + lesson.title) << "   ("
        << (student_tree_is_a_copy() ? folder.string() : fs::relative(folder, root).string()) << ")\n";

    if (check.state == State::not_building) {
        out << paint("31", "  your code does not build.") << " The compiler's first error:\n\n";
        for (const auto& line : nonempty_lines(check.build.first_error)) out << "    " << line << '\n';
        out << "\n  (the whole build log: " << fs::relative(check.build.log, root).string() << ")\n";
        return;
    }
    std::ostringstream seconds;
    seconds << std::fixed << std::setprecision(1) << check.build.time.count();
    out << "  build: ok (" << seconds.str() << " s)\n";

    const auto& tests = check.tests;
    for (const auto& result : tests.results)
        if (result) out << "  " << (result->passed ? paint("32", "[pass]") : paint("31", "[FAIL]")) << " " << result->name << '\n';
    if (tests.not_run() > 0)
        out << "  " << paint("2", "[ -- ]") << " " << tests.not_run() << " more check(s) not run"
            << (tests.interrupted ? " (interrupted)" : " (stopped at the first failure; --all runs every check)") << '\n';

    if (const int first = tests.first_failure(); first >= 0) {
        const auto& result = *tests.results[first];
        out << '\n' << paint("1", "The first failing check: ") << result.name << '\n';
        for (const auto& line : failure_lines(result, root)) out << "  " << line << '\n';
        if (const auto read = read_line(root, lesson, result.name); !read.empty()) out << "  " << read << '\n';
        if (options.verbose) {
            out << "\n  the test program's own output:\n";
            for (const auto& line : nonempty_lines(result.output)) out << "    " << line << '\n';
        }
    }

    std::ostringstream time;
    time << std::fixed << std::setprecision(1) << (check.build.time + tests.time).count();
    out << '\n' << "lesson " << lesson.number << ": " << tests.passed() << " of " << tests.names.size()
        << " checks pass";
    if (tests.failed() > 0) out << ", " << tests.failed() << " fail";
    if (tests.not_run() > 0) out << ", " << tests.not_run() << " not run";
    out << " (" << time.str() << " s): ";
    if (check.state == State::passing)
        out << paint("32;1", "PASSING") << '\n';
    else
        out << paint("31;1", "not passing yet") << ". Stuck? ./kit hint " << lesson.number << '\n';
}

}  // namespace clusterkit::kit
