// The kit's one build driver. See build.hpp.
#include "build.hpp"

#include "exec.hpp"

#include <deque>
#include <fstream>
#include <iostream>
#include <optional>
#include <regex>
#include <stdexcept>
#include <vector>

namespace clusterkit::kit {
using Clock = std::chrono::steady_clock;

namespace {

// The value of NAME in a CMakeCache.txt ("NAME:TYPE=value"), or std::nullopt.
std::optional<std::string> cache_value(const fs::path& cache, const std::string& name) {
    std::ifstream in(cache);
    for (std::string line; std::getline(in, line);)
        if (line.starts_with(name + ":")) return line.substr(line.find('=') + 1);
    return std::nullopt;
}

}  // namespace

std::string last_lines(const fs::path& file, std::size_t count) {
    std::ifstream in(file);
    std::deque<std::string> lines;
    for (std::string line; std::getline(in, line);) {
        lines.push_back(line);
        if (lines.size() > count) lines.pop_front();
    }
    std::string text;
    for (const auto& line : lines) text += line + '\n';
    return text;
}

std::string first_build_error(const fs::path& log, const fs::path& root) {
    std::ifstream in(log);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    static const std::regex error_line(R"((: (fatal )?error: )|(undefined reference to)|(^collect2: error))");
    static const std::regex context_line(R"(^( +\d* *\|.*|\s+\^.*)$)");
    for (std::size_t i = 0; i < lines.size(); ++i) {
        if (!std::regex_search(lines[i], error_line)) continue;
        std::string text;
        // "In function ..." and "In file included from ..." lines just before say where it happened.
        if (i > 0 && (lines[i - 1].find(": In ") != std::string::npos || lines[i - 1].find("In file included") == 0))
            text += lines[i - 1] + '\n';
        text += lines[i] + '\n';
        for (std::size_t j = i + 1; j < lines.size() && j <= i + 6 && std::regex_match(lines[j], context_line); ++j)
            text += lines[j] + '\n';
        // Paths relative to the checkout are shorter to read.
        const std::string prefix = root.string() + "/";
        for (auto at = text.find(prefix); at != std::string::npos; at = text.find(prefix)) text.erase(at, prefix.size());
        return text;
    }
    return last_lines(log, 15);
}

Build::Build(fs::path root, std::string preset)
    : root_(std::move(root)), preset_(std::move(preset)), directory_(root_ / "build" / preset_) {
    tree_ = preset_;
    if (preset_ == "starter" && student_tree_is_a_copy()) tree_ = student_tree().string();
}

void Build::configure(bool verbose) const {
    const auto cache = directory_ / "CMakeCache.txt";
    // Configured for this tree, and since the presets last changed (they hold the build's flags).
    const bool configured = fs::exists(directory_ / "build.ninja") && cache_value(cache, "CLUSTERKIT_TREE") == tree_ &&
                            fs::last_write_time(cache) >= fs::last_write_time(root_ / "CMakePresets.json");
    if (configured) return;
    Command cmake{find_program("cmake"), {"--preset", preset_, "-DCLUSTERKIT_TREE=" + tree_}, root_};
    if (verbose) {
        if (succeeded(run_in_terminal(cmake))) return;
        throw std::runtime_error("configuring build/" + preset_ + " failed (see above)");
    }
    std::cout << "kit: configuring build/" << preset_ << " (once)..." << std::endl;
    const auto log = root_ / "build" / (preset_ + ".configure.log");
    if (!succeeded(run_logged(cmake, log)))
        throw std::runtime_error("configuring build/" + preset_ + " failed; the end of " + log.string() + ":\n" +
                                 last_lines(log, 20));
}

Build::Result Build::build_lesson(const Lesson& lesson, bool verbose) const {
    Result result;
    result.log = kit_files() / ("lesson" + lesson.number + ".build.log");
    Command cmake{find_program("cmake"), {"--build", directory_.string(), "--target", "lesson" + lesson.number}, root_};
    const auto start = Clock::now();
    result.ok = succeeded(verbose ? run_in_terminal(cmake) : run_logged(cmake, result.log));
    result.time = Clock::now() - start;
    if (!result.ok && !verbose) result.first_error = first_build_error(result.log, root_);
    return result;
}

}  // namespace clusterkit::kit
