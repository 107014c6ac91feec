// kit verify [NN]: build one lesson of the student's code, run its tests, print a short verdict.
#include "args.hpp"
#include "check.hpp"
#include "commands.hpp"
#include "exec.hpp"
#include "timeline.hpp"
#include "verdict.hpp"

#include <clusterkit/errors.hpp>

#include <algorithm>
#include <fstream>
#include <iostream>

namespace clusterkit::kit {

namespace {

// The timeline of the first failing check (or, when all pass, of the first check): the program run it is
// about, from the test's own record.
void draw_verify_timeline(const LessonCheck& check, const fs::path& svg) {
    const auto& tests = check.tests;
    const int index = std::max(tests.first_failure(), 0);
    if (tests.results.empty() || !tests.results[index]) {
        std::cout << "kit: no timeline: no check ran\n";
        return;
    }
    const auto& result = *tests.results[index];
    const auto* run = run_of_interest(result);
    if (!run) {
        std::cout << "kit: no timeline: the check \"" << result.name << "\" started no program\n";
        return;
    }
    auto titled = *run;
    titled.command += "   (the check: " + result.name + ")";
    write_timeline(svg, titled);
}

}  // namespace

int command_verify(const Args& args) {
    auto options = lesson_check_options();
    options.add_options()
        ("verbose", "show the build's and the test programs' whole output")
        ("timeline", po::value<std::string>(), "draw the processes of the first failing check's run as an SVG file");
    const auto values = parse_args(args, "verify [NN] [--all] [--verbose] [--timeline FILE.svg]", options, lesson_word());

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
        if (!values.count("all") && !values.count("verbose")) reuse = std::move(first.check);
    }
    std::ofstream(current_lesson_file(root)) << lesson->number << '\n';

    const RunOptions run_options{.stop_at_first_failure = values.count("all") == 0};
    const auto check = reuse ? std::move(*reuse) : check_lesson(build, *lesson, run_options, values.count("verbose") > 0, true);
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
