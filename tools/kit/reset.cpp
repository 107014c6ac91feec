// kit reset NN [--yes]: restore a lesson's starter files from git (HEAD's starter/NN-name), after asking.
// Files the student added to the folder are left alone, and named.
#include "args.hpp"
#include "commands.hpp"
#include "exec.hpp"
#include "repo.hpp"

#include <clusterkit/errors.hpp>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <sstream>
#include <unistd.h>

namespace clusterkit::kit {

namespace {

bool confirmed(const std::string& question) {
    std::cout << question << " [y/N] " << std::flush;
    std::string answer;
    if (!std::getline(std::cin, answer)) return false;
    return answer == "y" || answer == "Y" || answer == "yes";
}

}  // namespace

int command_reset(const Args& args) {
    po::options_description options("options");
    options.add_options()
        ("lesson", po::value<std::string>(), "the lesson: 01, 1 or 01-fork-per-cpu")
        ("yes", "do not ask");
    po::positional_options_description positional;
    positional.add("lesson", 1);
    const auto values = parse_args(args, "reset NN [--yes]", options, positional);
    if (!values.count("lesson")) throw UsageError("which lesson? usage: ./kit reset NN");

    const auto root = kit_root();
    const auto lessons = read_lessons(root);
    const auto& lesson = find_lesson(lessons, values["lesson"].as<std::string>());
    const auto git = find_program("git");
    const std::string shipped = "starter/" + lesson.slug;
    const auto files = nonempty_lines(run_for_output({git, {"ls-tree", "--name-only", "HEAD", shipped + "/"}, root}));
    if (files.empty()) throw std::runtime_error("git has no " + shipped + " in HEAD: nothing to restore from");
    const auto folder = student_tree() / lesson.slug;

    if (!values.count("yes")) {
        if (!::isatty(STDIN_FILENO))
            throw UsageError("not asking without a terminal: ./kit reset " + lesson.number + " --yes");
        if (!confirmed("Restore " + folder.string() + " to the starter files? Your changes to them are lost."))
            return std::cout << "kit: nothing changed\n", 1;
    }
    fs::create_directories(folder);
    for (const auto& path : files) {
        const auto name = fs::path(path).filename();
        std::ofstream(folder / name, std::ios::binary | std::ios::trunc)
            << run_for_output({git, {"show", "HEAD:" + path}, root});
        std::cout << "kit: restored " << (folder / name).string() << '\n';
    }
    for (const auto& entry : fs::directory_iterator(folder)) {
        const auto name = entry.path().filename().string();
        if (std::none_of(files.begin(), files.end(), [&](const std::string& path) { return fs::path(path).filename() == name; }))
            std::cout << "kit: left alone (not a starter file): " << entry.path().string() << '\n';
    }
    return 0;
}

}  // namespace clusterkit::kit
