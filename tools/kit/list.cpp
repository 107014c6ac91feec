// kit list: every lesson of the student's code with its state, and a progress bar of the whole.
#include "args.hpp"
#include "check.hpp"
#include "commands.hpp"
#include "exec.hpp"
#include "verdict.hpp"

#include <iomanip>
#include <iostream>

namespace clusterkit::kit {

namespace {

std::string state_text(const LessonCheck& check, bool color) {
    std::string text = describe(check.state);
    if (check.state == State::failing) {
        const auto& tests = check.tests;
        text += " (" + std::to_string(tests.passed()) + " of " + std::to_string(tests.names.size()) + " checks pass";
        text += tests.not_run() > 0 ? " before the first failure)" : ")";
    }
    if (!color) return text;
    const char* code = check.state == State::passing ? "32" : check.state == State::not_started ? "2" : "31";
    return std::string("\033[") + code + "m" + text + "\033[0m";
}

std::string progress_bar(int passing, int total, int width = 30) {
    const int filled = total > 0 ? passing * width / total : 0;
    return "[" + std::string(filled, '#') + std::string(width - filled, '-') + "]";
}

}  // namespace

int command_list(const Args& args) {
    po::options_description options("options");
    parse_args(args, "list", options);
    catch_interrupts();
    const auto root = kit_root();
    const auto lessons = read_lessons(root);
    const Build build(root, "starter");
    build.configure(false);
    const bool color = terminal_wants_color();

    int passing = 0;
    std::cout << std::left << std::setw(4) << "" << std::setw(46) << "lesson" << "state\n";
    for (const auto& lesson : lessons) {
        if (interrupted()) break;
        std::cout << std::setw(4) << lesson.number << std::setw(46) << lesson.title << std::flush;
        const auto check = check_lesson(build, lesson, RunOptions{}, false, false);
        if (check.state == State::passing) ++passing;
        std::cout << state_text(check, color) << std::endl;
    }
    if (interrupted()) return 130;
    const int total = static_cast<int>(lessons.size());
    std::cout << "\nprogress " << progress_bar(passing, total) << ' ' << passing << '/' << total << " lessons pass\n";
    if (passing < total) std::cout << "next: ./kit verify   (checks the first lesson that does not pass yet)\n";
    return 0;
}

}  // namespace clusterkit::kit
