// Checking one lesson of the student's code. See check.hpp.
#include "check.hpp"

#include "exec.hpp"

#include <algorithm>
#include <iostream>

namespace clusterkit::kit {

std::string describe(State state) {
    switch (state) {
    case State::not_started: return "not started";
    case State::not_building: return "not building";
    case State::failing: return "failing";
    case State::passing: return "passing";
    }
    return "?";
}

std::optional<bool> untouched(const fs::path& root, const fs::path& tree, const Lesson& lesson) {
    try {
        const auto git = find_program("git");
        const std::string shipped = "starter/" + lesson.slug;
        std::vector<std::string> names;
        for (const auto& path : nonempty_lines(run_for_output({git, {"ls-tree", "--name-only", "HEAD", shipped + "/"}, root})))
            names.push_back(fs::path(path).filename().string());
        if (names.empty()) return std::nullopt;
        const auto folder = tree / lesson.slug;
        if (!fs::is_directory(folder)) return false;
        for (const auto& entry : fs::directory_iterator(folder))
            if (std::ranges::find(names, entry.path().filename().string()) == names.end()) return false;
        for (const auto& name : names) {
            const auto file = folder / name;
            if (!fs::exists(file)) return false;
            if (read_file(file) != run_for_output({git, {"show", "HEAD:" + shipped + "/" + name}, root})) return false;
        }
        return true;
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

LessonCheck check_lesson(const Build& build, const Lesson& lesson, const RunOptions& options, bool verbose,
                         bool always_test) {
    LessonCheck check;
    if (!always_test && untouched(kit_root(), student_tree(), lesson).value_or(false)) return check;
    check.build = build.build_lesson(lesson, verbose);
    if (!check.build.ok) {
        check.state = State::not_building;
        return check;
    }
    if (interrupted()) return check;
    PlainRunner runner;
    check.tests = run_test_cases(build.program("test" + lesson.number), build.kit_files() / ("test" + lesson.number),
                                 runner, options);
    check.state = check.tests.failed() == 0 && check.tests.not_run() == 0 ? State::passing : State::failing;
    return check;
}

FirstNotPassing first_not_passing(const Build& build, const std::vector<Lesson>& lessons) {
    for (const auto& lesson : lessons) {
        if (interrupted()) break;
        std::cout << "kit: checking lesson " << lesson.number << "..." << std::endl;
        auto check = check_lesson(build, lesson, RunOptions{}, false, false);
        if (check.state == State::not_started) return {&lesson, std::nullopt};
        if (check.state != State::passing) return {&lesson, std::move(check)};
    }
    return {};
}

fs::path current_lesson_file(const fs::path& root) { return root / "build" / "kit-current-lesson"; }

}  // namespace clusterkit::kit
