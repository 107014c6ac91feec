// The verdict of `kit verify`. See verdict.hpp.
#include "verdict.hpp"

#include <cstdio>
#include <cstdlib>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <unistd.h>

namespace clusterkit::kit {

namespace {

constexpr std::size_t max_line = 150;       // longer lines are cut
constexpr std::size_t keep_head = 10;       // of a long transcript block: the first lines...
constexpr std::size_t keep_tail = 4;        // ...and the last ones

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

std::string cut(std::string line) {
    if (line.size() > max_line) line = line.substr(0, max_line) + " ...";
    return line;
}

std::string strip(std::string text, const std::string& prefix) {
    for (auto at = text.find(prefix); at != std::string::npos; at = text.find(prefix)) text.erase(at, prefix.size());
    return text;
}

bool indented(const std::string& line) { return line.starts_with("  "); }

// The program's transcript, as tests/support's Run::transcript() writes it ("stdout of P:", indented
// lines, "stderr:", indented lines, "status: ..."), kept short: a long block keeps its head and tail.
void add_trimmed_block(std::vector<std::string>& out, const std::vector<std::string>& block) {
    if (block.size() <= keep_head + keep_tail + 1) {
        for (const auto& line : block) out.push_back(cut(line));
        return;
    }
    for (std::size_t i = 0; i < keep_head; ++i) out.push_back(cut(block[i]));
    out.push_back("  ... " + std::to_string(block.size() - keep_head - keep_tail) + " more lines ...");
    for (std::size_t i = block.size() - keep_tail; i < block.size(); ++i) out.push_back(cut(block[i]));
}

struct Paint {
    bool on;
    std::string operator()(const char* code, const std::string& text) const {
        return on ? std::string("\033[") + code + "m" + text + "\033[0m" : text;
    }
};

}  // namespace

Failure parse_failure(const std::string& text, const fs::path& root) {
    Failure failure;
    const auto lines = lines_of(strip(text, root.string() + "/"));
    std::size_t i = 0;
    // Only the first "FAILED:" block is shown; later ones are counted.
    while (i < lines.size() && lines[i] != "FAILED:") ++i;
    if (i < lines.size()) ++i;
    std::vector<std::string> assertion;
    while (i < lines.size() && indented(lines[i])) assertion.push_back(lines[i++].substr(2));
    for (const auto& line : assertion) failure.assertion += (failure.assertion.empty() ? "" : " ") + line;
    if (i < lines.size() && lines[i] == "with expansion:") {
        ++i;
        while (i < lines.size() && indented(lines[i]))
            failure.expansion += (failure.expansion.empty() ? "" : " ") + lines[i++].substr(2);
    }
    std::vector<std::string> block;
    auto flush = [&] {
        // tests/support prints "stderr:" with nothing under it for a program that wrote no error.
        if (block.empty() && !failure.context.empty() && failure.context.back().ends_with(":") &&
            failure.context.back().starts_with("stderr"))
            failure.context.back() += " (nothing)";
        add_trimmed_block(failure.context, block);
        block.clear();
    };
    for (; i < lines.size(); ++i) {
        const auto& line = lines[i];
        if (line == "FAILED:") {
            ++failure.more;
            continue;
        }
        if (failure.more > 0) continue;
        if (line.starts_with("at ") && failure.location.empty()) {
            flush();
            failure.location = line.substr(3);
            continue;
        }
        if (line.find_first_not_of(' ') == std::string::npos) continue;
        if (indented(line)) {
            block.push_back(line);
            continue;
        }
        flush();
        // "stdout of 4242:" is the program's own output: say so.
        if (line.starts_with("stdout of ") && line.ends_with(":"))
            failure.context.push_back("your program's stdout (pid " + line.substr(10, line.size() - 11) + "):");
        else
            failure.context.push_back(cut(line));
    }
    flush();
    return failure;
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
    std::ostringstream seconds;
    seconds << std::fixed << std::setprecision(1);
    const auto folder = student_tree() / lesson.slug;
    out << paint("1", "lesson " + lesson.number + ": " + lesson.title) << "   ("
        << (student_tree_is_a_copy() ? folder.string() : fs::relative(folder, root).string()) << ")\n";

    if (check.state == State::not_building) {
        out << paint("31", "  your code does not build.") << " The compiler's first error:\n\n";
        for (const auto& line : lines_of(check.build.first_error)) out << "    " << line << '\n';
        out << "\n  (the whole build log: " << fs::relative(check.build.log, root).string() << ")\n";
        return;
    }
    seconds << check.build.time.count();
    out << "  build: ok (" << seconds.str() << " s)\n";

    const auto& tests = check.tests;
    for (std::size_t i = 0; i < tests.names.size(); ++i) {
        const auto& result = tests.results[i];
        if (!result) continue;
        out << "  " << (result->passed ? paint("32", "[pass]") : paint("31", "[FAIL]")) << " " << tests.names[i] << '\n';
    }
    if (tests.not_run() > 0)
        out << "  " << paint("2", "[ -- ]") << " " << tests.not_run() << " more check(s) not run"
            << (tests.interrupted ? " (interrupted)" : " (stopped at the first failure; --all runs every check)") << '\n';

    const int first = tests.first_failure();
    if (first >= 0) {
        const auto& result = *tests.results[first];
        out << '\n' << paint("1", "The first failing check: ") << result.name << '\n';
        if (options.verbose) {
            for (const auto& line : lines_of(result.message)) out << "    " << line << '\n';
        } else {
            const auto failure = parse_failure(result.message, root);
            if (!failure.assertion.empty()) out << "  expected:  " << failure.assertion << '\n';
            if (!failure.expansion.empty()) out << "  but got:   " << failure.expansion << '\n';
            if (!failure.context.empty()) out << "  what happened:\n";
            for (const auto& line : failure.context) out << "    " << line << '\n';
            if (failure.more > 0) out << "  (and " << failure.more << " more failed assertion(s) in this check)\n";
            if (!failure.location.empty()) out << "  the check: " << failure.location << '\n';
        }
        if (const auto pointer = lesson_pointer(root, lesson, result.name); !pointer.empty())
            out << "  read:      " << pointer << '\n';
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
