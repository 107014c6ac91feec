// kit verify [NN]: build one lesson of the student's code, run its tests, print a short verdict.
#include "args.hpp"
#include "check.hpp"
#include "commands.hpp"
#include "exec.hpp"
#include "timeline.hpp"
#include "verdict.hpp"

#include <clusterkit/errors.hpp>

#include <fstream>
#include <iostream>

namespace clusterkit::kit {

namespace {

// The recorded program runs of one test case (tests/support writes one file per program it started),
// the longest first: that run is the one the check is about, more often than not.
std::vector<fs::path> recordings_in(const fs::path& folder) {
    std::vector<fs::path> files;
    if (fs::is_directory(folder))
        for (const auto& entry : fs::directory_iterator(folder))
            if (entry.path().extension() == ".events") files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    std::stable_sort(files.begin(), files.end(),
                     [](const fs::path& a, const fs::path& b) { return fs::file_size(a) > fs::file_size(b); });
    return files;
}

// The timeline of the first failing check (or, when all pass, of the first check), from the test's own run.
void draw_verify_timeline(const LessonCheck& check, const fs::path& svg) {
    const auto& tests = check.tests;
    int index = tests.first_failure();
    if (index < 0 && !tests.names.empty()) index = 0;
    if (index < 0 || tests.timeline_dirs[index].empty()) {
        std::cout << "kit: no timeline: no check ran\n";
        return;
    }
    const auto files = recordings_in(tests.timeline_dirs[index]);
    if (files.empty()) {
        std::cout << "kit: no timeline: the check \"" << tests.names[index] << "\" started no program\n";
        return;
    }
    auto recording = read_recording_file(files.front());
    recording.program += "   (the check: " + tests.names[index] + ")";
    write_timeline(svg, recording);
}

}  // namespace

int command_verify(const Args& args) {
    po::options_description options("options");
    options.add_options()
        ("lesson", po::value<std::string>(), "the lesson: 01, 1 or 01-fork-per-cpu (default: the first not passing)")
        ("all", "run every check, not only up to the first failing one")
        ("verbose", "show the build's and the tests' whole output")
        ("timeline", po::value<std::string>(), "draw the processes of the first failing check's run as an SVG file");
    po::positional_options_description positional;
    positional.add("lesson", 1);
    const auto values = parse_args(args, "verify [NN] [--all] [--verbose] [--timeline FILE.svg]", options, positional);

    catch_interrupts();
    const auto root = kit_root();
    const auto lessons = read_lessons(root);
    const Build build(root, "starter");
    build.configure(values.count("verbose") > 0);

    const Lesson* lesson = nullptr;
    std::optional<LessonCheck> reuse;
    if (values.count("lesson")) {
        lesson = &find_lesson(lessons, values["lesson"].as<std::string>());
    } else {
        auto first = first_not_passing(build, lessons);
        if (interrupted()) return 130;
        if (!first.lesson) {
            std::cout << "kit: every lesson passes. Well done!\n";
            return 0;
        }
        lesson = first.lesson;
        if (!values.count("all") && !values.count("timeline") && !values.count("verbose")) reuse = std::move(first.check);
    }
    std::ofstream(current_lesson_file(root)) << lesson->number << '\n';

    const TestOptions test_options{.stop_at_first_failure = values.count("all") == 0,
                                   .record_timelines = values.count("timeline") > 0};
    const auto check = reuse ? std::move(*reuse) : check_lesson(build, *lesson, test_options, values.count("verbose") > 0, true);
    if (interrupted()) {
        std::cout << "kit: interrupted\n";
        return 130;
    }
    print_verdict(std::cout, root, *lesson, check,
                  {.verbose = values.count("verbose") > 0, .color = terminal_wants_color()});
    if (values.count("timeline") && check.state != State::not_building)
        draw_verify_timeline(check, values["timeline"].as<std::string>());
    return check.state == State::passing ? 0 : 1;
}

}  // namespace clusterkit::kit
