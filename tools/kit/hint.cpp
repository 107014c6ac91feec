// kit hint [NN]: the next hint for a lesson, from lessons/NN-name/hints.md ("## Hint 1", "## Hint 2", ...),
// one more each call. The count is kept in build/hints-seen-NN; --reset starts again.
#include "args.hpp"
#include "check.hpp"
#include "commands.hpp"
#include "repo.hpp"

#include <clusterkit/errors.hpp>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <sstream>

namespace clusterkit::kit {

namespace {

// The text of each "## Hint N" section, in order.
std::vector<std::string> read_hints(const fs::path& file) {
    std::vector<std::string> hints;
    std::istringstream in(read_file(file));
    for (std::string line; std::getline(in, line);) {
        if (line.starts_with("## Hint")) {
            hints.emplace_back();
            continue;
        }
        if (!hints.empty()) hints.back() += line + '\n';
    }
    for (auto& hint : hints) {  // without the blank lines around it
        hint.erase(0, hint.find_first_not_of('\n'));
        hint.erase(hint.find_last_not_of('\n') + 1);
        hint += '\n';
    }
    return hints;
}

int read_count(const fs::path& file) {
    std::ifstream in(file);
    int count = 0;
    return in >> count ? count : 0;
}

}  // namespace

int command_hint(const Args& args) {
    po::options_description options("options");
    options.add_options()
        ("lesson", po::value<std::string>(), "the lesson: 01, 1 or 01-fork-per-cpu (default: the one you last verified)")
        ("reset", "start again from the first hint");
    po::positional_options_description positional;
    positional.add("lesson", 1);
    const auto values = parse_args(args, "hint [NN] [--reset]", options, positional);

    const auto root = kit_root();
    const auto lessons = read_lessons(root);
    std::string which = values.count("lesson") ? values["lesson"].as<std::string>() : "";
    if (which.empty()) std::ifstream(current_lesson_file(root)) >> which;
    if (which.empty()) throw UsageError("which lesson? ./kit hint NN (for example ./kit hint 01)");
    const auto& lesson = find_lesson(lessons, which);

    const auto hints = read_hints(lesson.hints(root));
    if (hints.empty()) throw std::runtime_error(fs::relative(lesson.hints(root), root).string() + " has no '## Hint' section");
    fs::create_directories(root / "build");
    const auto seen_file = root / "build" / ("hints-seen-" + lesson.number);
    if (values.count("reset")) fs::remove(seen_file);
    const int seen = read_count(seen_file);
    const int next = std::min(seen + 1, static_cast<int>(hints.size()));
    std::ofstream(seen_file) << next << '\n';

    std::cout << "Hint " << next << " of " << hints.size() << " for lesson " << lesson.slug << ":\n\n"
              << hints[next - 1] << '\n';
    if (next == static_cast<int>(hints.size()))
        std::cout << "(That is the last hint. The lesson text: " << fs::relative(lesson.text(root), root).string() << ")\n";
    else
        std::cout << "(./kit hint " << lesson.number << " again for the next one.)\n";
    return 0;
}

}  // namespace clusterkit::kit
