// kit hint [NN] [TODO] [--list] [--reset]: the next hint for one TODO of a lesson, from its ladder in
// lessons/NN-name/hints.md (see hints.hpp), one rung more each call. Without TODO: the next hint of the first
// TODO whose hints have not all been shown, which is where a student who follows the file's order is stuck.
// What was shown is kept in build/hints-seen-NN, one "KEY COUNT" line per TODO; --reset forgets it (for one
// TODO, or for the lesson).
#include "args.hpp"
#include "check.hpp"
#include "commands.hpp"
#include "hints.hpp"
#include "repo.hpp"

#include <clusterkit/errors.hpp>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <sstream>
#include <utility>

namespace clusterkit::kit {

namespace {

std::string lower(std::string_view text) {
    std::string result(text);
    std::ranges::transform(result, result.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return result;
}

std::string trimmed_blank_lines(std::string text) {
    text.erase(0, text.find_first_not_of('\n'));
    text.erase(text.find_last_not_of('\n') + 1);
    return text + '\n';
}

// "`Supervisor::watch()`, in supervisor.cpp" -> "Supervisor::watch"; "copies.cpp: the loop" -> "copies".
std::string key_of(std::string_view heading) {
    std::string word(heading.substr(0, heading.find(' ')));
    std::erase(word, '`');
    for (std::string_view tail : {":", ",", "()", ".cpp", ".hpp"})
        if (word.ends_with(tail)) word.erase(word.size() - tail.size());
    return word;
}

std::string list_of_keys(const std::vector<HintLadder>& ladders) {
    std::string keys;
    for (const auto& ladder : ladders) keys += (keys.empty() ? "" : ", ") + ladder.key;
    return keys;
}

using Seen = std::map<std::string, int>;  // TODO key -> how many of its hints were shown

Seen read_seen(const fs::path& file) {
    Seen seen;
    std::ifstream in(file);
    for (std::string line; std::getline(in, line);) {
        std::istringstream words(line);
        std::string key;
        int count = 0;
        if (words >> key >> count) seen[key] = count;  // an older file's bare number is ignored
    }
    return seen;
}

void write_seen(const fs::path& file, const Seen& seen) {
    std::ofstream out(file);
    for (const auto& [key, count] : seen) out << key << ' ' << count << '\n';
}

void print_list(const Lesson& lesson, const std::vector<HintLadder>& ladders, const Seen& seen) {
    std::size_t width = 0;
    for (const auto& ladder : ladders) width = std::max(width, ladder.key.size());
    std::cout << "Hints for lesson " << lesson.slug << ", one ladder per TODO (./kit hint " << lesson.number
              << " TODO):\n";
    for (const auto& ladder : ladders) {
        const auto found = seen.find(ladder.key);
        std::cout << "  " << std::left << std::setw(static_cast<int>(width)) << ladder.key << "  "
                  << (found == seen.end() ? 0 : found->second) << " of " << ladder.rungs.size() << " seen\n";
    }
}

// The ladder to climb when the student named no TODO: the first one not climbed to the top.
const HintLadder* first_unfinished(const std::vector<HintLadder>& ladders, const Seen& seen) {
    for (const auto& ladder : ladders) {
        const auto found = seen.find(ladder.key);
        if (found == seen.end() || found->second < static_cast<int>(ladder.rungs.size())) return &ladder;
    }
    return nullptr;
}

void show_rung(const Lesson& lesson, const fs::path& text, const HintLadder& ladder, int number) {
    const int total = static_cast<int>(ladder.rungs.size());
    std::cout << "Lesson " << lesson.number << ", " << ladder.heading << ": hint " << number << " of " << total
              << "\n\n" << ladder.rungs[static_cast<std::size_t>(number - 1)] << '\n';
    if (number == total)
        std::cout << "(That is the last hint for " << ladder.key << ". The lesson text: " << text.string() << ")\n";
    else
        std::cout << "(./kit hint " << lesson.number << ' ' << ladder.key << " for the next one; ./kit hint "
                  << lesson.number << " --list for every TODO.)\n";
}

bool names_a_lesson(const std::vector<Lesson>& lessons, std::string_view word) {
    return std::ranges::any_of(lessons, [&](const Lesson& lesson) {
        return lesson.slug == word || lesson.number == word || (word.size() == 1 && "0" + std::string(word) == lesson.number);
    });
}

}  // namespace

std::vector<HintLadder> parse_hints(std::string_view markdown) {
    std::vector<HintLadder> ladders;
    std::istringstream in{std::string(markdown)};
    bool in_code = false;
    for (std::string line; std::getline(in, line);) {
        if (line.starts_with("```")) in_code = !in_code;
        if (!in_code && line.starts_with("## ")) {
            const auto heading = line.substr(3);
            ladders.push_back({heading, key_of(heading), {}});
        } else if (!in_code && line.starts_with("### ") && !ladders.empty()) {
            ladders.back().rungs.emplace_back();
        } else if (!ladders.empty()) {
            auto& rungs = ladders.back().rungs;
            if (rungs.empty()) rungs.emplace_back();  // a section without "###": one rung
            rungs.back() += line + '\n';
        }
    }
    for (auto& ladder : ladders) {
        for (auto& rung : ladder.rungs) rung = trimmed_blank_lines(rung);
        std::erase_if(ladder.rungs, [](const std::string& rung) { return rung == "\n"; });
    }
    std::erase_if(ladders, [](const HintLadder& ladder) { return ladder.rungs.empty(); });
    // Two sections with one key (an old flat file: "## Hint 1", "## Hint 2"): keep each one reachable.
    std::map<std::string, int> times;
    for (auto& ladder : ladders)
        if (const int seen_before = times[ladder.key]++; seen_before > 0) ladder.key += "#" + std::to_string(seen_before + 1);
    return ladders;
}

const HintLadder& find_ladder(const std::vector<HintLadder>& ladders, std::string_view which) {
    const auto wanted = lower(which);
    for (const auto& ladder : ladders) {
        const auto key = lower(ladder.key);
        const auto scope = key.rfind("::");
        if (key == wanted || (scope != std::string::npos && key.substr(scope + 2) == wanted)) return ladder;
    }
    std::vector<const HintLadder*> matches;
    for (const auto& ladder : ladders)
        if (lower(ladder.heading).find(wanted) != std::string::npos) matches.push_back(&ladder);
    if (matches.size() == 1) return *matches.front();
    throw UsageError((matches.empty() ? "no TODO named '" : "several TODOs match '") + std::string(which) +
                     "': name one of " + list_of_keys(ladders));
}

int command_hint(const Args& args) {
    po::options_description options("options");
    options.add_options()
        ("lesson", po::value<std::string>(), "the lesson: 01, 1 or 01-fork-per-cpu (default: the one you last verified)")
        ("todo", po::value<std::string>(), "the TODO, by its function's name (default: the first whose hints you have not all seen)")
        ("list", "list the lesson's TODOs and how many of each one's hints you have seen")
        ("reset", "start again from the first hint (of the TODO, or of every TODO of the lesson)");
    po::positional_options_description positional;
    positional.add("lesson", 1).add("todo", 1);
    const auto values = parse_args(args, "hint [NN] [TODO] [--list] [--reset]", options, positional);

    const auto root = kit_root();
    const auto lessons = read_lessons(root);
    std::string which = values.count("lesson") ? values["lesson"].as<std::string>() : "";
    std::string todo = values.count("todo") ? values["todo"].as<std::string>() : "";
    if (!which.empty() && todo.empty() && !names_a_lesson(lessons, which)) todo = std::exchange(which, "");  // kit hint reap_all
    if (which.empty()) std::ifstream(current_lesson_file(root)) >> which;
    if (which.empty()) throw UsageError("which lesson? ./kit hint NN (for example ./kit hint 01)");
    const auto& lesson = find_lesson(lessons, which);

    const auto hints_file = fs::relative(lesson.hints(root), root);
    const auto ladders = parse_hints(read_file(lesson.hints(root)));
    if (ladders.empty()) throw std::runtime_error(hints_file.string() + " has no hints: no '## TODO' section with text");
    fs::create_directories(root / "build");
    const auto seen_file = root / "build" / ("hints-seen-" + lesson.number);
    auto seen = read_seen(seen_file);

    const HintLadder* ladder = todo.empty() ? nullptr : &find_ladder(ladders, todo);
    if (values.count("reset")) {
        if (ladder) seen.erase(ladder->key);
        else seen.clear();
        write_seen(seen_file, seen);
        std::cout << "Hints of lesson " << lesson.number << (ladder ? ", " + ladder->key : "") << " start again.\n";
        return 0;
    }
    if (values.count("list")) {
        print_list(lesson, ladders, seen);
        return 0;
    }
    if (!ladder) ladder = first_unfinished(ladders, seen);
    if (!ladder) {
        std::cout << "You have seen every hint of lesson " << lesson.number << ". ./kit hint " << lesson.number
                  << " TODO shows a TODO's last hint again (one of " << list_of_keys(ladders) << "); --reset starts again.\n";
        return 0;
    }
    const int next = std::min(seen[ladder->key] + 1, static_cast<int>(ladder->rungs.size()));
    seen[ladder->key] = next;
    write_seen(seen_file, seen);
    show_rung(lesson, fs::relative(lesson.text(root), root), *ladder, next);
    return 0;
}

}  // namespace clusterkit::kit
