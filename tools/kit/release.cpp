// kit release DIR [--no-git]: a student copy of the kit, without the solutions (release.hpp), as a fresh
// git repository ready to push as a GitHub Classroom template.
#include "release.hpp"

#include "answers.hpp"
#include "args.hpp"
#include "commands.hpp"
#include "exec.hpp"
#include "repo.hpp"

#include <clusterkit/errors.hpp>

#include <iostream>
#include <sstream>

namespace clusterkit::kit {

std::vector<std::string> kit_files(const fs::path& root) {
    std::vector<std::string> files;
    if (fs::exists(root / ".git")) {
        std::istringstream listed(run_for_output({find_program("git"), {"-C", root.string(), "ls-files"}}));
        for (std::string line; std::getline(listed, line);)
            if (!line.empty() && fs::is_regular_file(root / line)) files.push_back(line);
        return files;
    }
    for (auto entry = fs::recursive_directory_iterator(root); entry != fs::recursive_directory_iterator(); ++entry) {
        const auto relative = fs::relative(entry->path(), root).string();
        if (entry->is_directory() && (relative == "build" || relative == ".git")) entry.disable_recursion_pending();
        else if (entry->is_regular_file()) files.push_back(relative);
    }
    return files;
}

bool left_out_of_release(const std::string& path) {
    for (const std::string prefix : {"solutions/", "tests/grading/", "bench/", ".ci/"})
        if (path.starts_with(prefix)) return true;
    if (path.starts_with("lessons/") && path.ends_with("/answers.md")) return true;
    return path == "tests/check-mutants" || path.find("/mutants/") != std::string::npos;
}

std::vector<std::string> release_files(const fs::path& root) {
    auto files = kit_files(root);
    std::erase_if(files, left_out_of_release);
    return files;
}

std::vector<std::string> write_release(const fs::path& root, const fs::path& dir) {
    if (fs::exists(dir) && !fs::is_empty(dir)) throw UsageError(dir.string() + " exists and is not empty");
    const auto files = release_files(root);
    const auto leaks = find_leaks(root, files, answer_lines(root, kit_files(root)));
    if (!leaks.empty()) {
        std::string text = "the release would give " + std::to_string(leaks.size()) + " answer line(s) away:";
        for (const auto& leak : leaks) text += "\n  " + describe(leak);
        throw std::runtime_error(text);
    }
    for (const auto& file : files) {
        fs::create_directories((dir / file).parent_path());
        fs::copy_file(root / file, dir / file);
        fs::permissions(dir / file, fs::status(root / file).permissions());
    }
    return files;
}

int command_release(const Args& args) {
    po::options_description options("options");
    options.add_options()("dir", po::value<std::string>()->required(), "where to write the student copy")(
        "no-git", "do not make the copy a git repository");
    po::positional_options_description positional;
    positional.add("dir", 1);
    const auto values = parse_args(args, "release DIR [--no-git]", options, positional);
    const fs::path dir = fs::absolute(values["dir"].as<std::string>());
    const auto root = kit_root();

    const auto copied = write_release(root, dir);
    std::cout << "kit release: " << copied.size() << " files in " << dir.string()
              << " (left out: solutions/, tests/*/mutants/, tests/grading/, tests/check-mutants, bench/, .ci/,"
                 " lessons/*/answers.md; no answer line in any file)\n";
    if (values.count("no-git")) return exit_status::ok;
    const auto git = find_program("git");
    run_for_output({git, {"init", "-q", "-b", "main"}, dir});
    run_for_output({git, {"add", "."}, dir});
    run_for_output({git, {"-c", "user.name=ClusterKit", "-c", "user.email=clusterkit@localhost", "commit", "-q", "-m",
                          "ClusterKit: student release"},
                    dir});
    std::cout << "kit release: a git repository with one commit: push it to GitHub and make it the template of a "
                 "GitHub Classroom assignment (its autograding workflow is .github/workflows/classroom.yml)\n";
    return exit_status::ok;
}

}  // namespace clusterkit::kit
