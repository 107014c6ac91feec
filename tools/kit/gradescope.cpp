// kit gradescope [--out FILE] [--lessons LIST] [--visibility V]: the autograder zip for a Gradescope
// programming assignment.
//
// Gradescope unpacks the zip into /autograder/source, runs setup.sh once to build the image, then
// run_autograder for each submission, and reads /autograder/results/results.json. The zip holds the kit as
// a student release (no solutions), setup.sh (the packages from tools/deps, the one list; the kit tool, the
// tests, and the build slot's kit library, all built once into the image) and run_autograder (kit
// grade on /autograder/submission). The same grader, sandbox and rubrics as `kit grade` on your machine.
// The image must be one tools/deps knows (Debian 12, Debian 13, Ubuntu 24.04): Gradescope's default Ubuntu
// 22.04 ships Boost 1.74, without Boost.Process v2. Which image to pick: docs/instructor.md, "Gradescope".
#include "args.hpp"
#include "commands.hpp"
#include "exec.hpp"
#include "release.hpp"
#include "repo.hpp"
#include "report.hpp"

#include <clusterkit/errors.hpp>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <string>
#include <string_view>
#include <unistd.h>
#include <vector>

namespace clusterkit::kit {
namespace {

constexpr std::string_view setup_sh = R"sh(#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image (the zip is in /autograder/source).
# The image must be a system whose own packages build ClusterKit (Boost 1.81 or newer): one that
# tools/deps/packages.tsv lists. On any other it stops at once, before installing anything.
set -euo pipefail
cd /autograder/source
chmod +x kit run_autograder tools/deps/install
[ -f /autograder/run_autograder ] && chmod +x /autograder/run_autograder
status=0
tools/deps/install --check >/dev/null 2>&1 || status=$?
if [ "$status" -eq 3 ]; then
  echo "setup.sh: error: this image is $(. "${OS_RELEASE:-/etc/os-release}" && echo "$PRETTY_NAME"), whose packages cannot build" \
       "ClusterKit (Boost 1.81+ is needed); choose an Ubuntu 24.04 base image, see docs/instructor.md, 'Gradescope'" >&2
  exit 1
fi
tools/deps/install   # the one package list, as ./kit deps and CI use it
# The kit tool, the tests and the rubric check, built into the image: grading then builds only the lessons.
./kit grade --check-rubrics --lessons "$(cat lessons.txt)"
./kit grade --prepare --lessons "$(cat lessons.txt)"
)sh";

// Gradescope's own failure is a zero with the reason, in the same Markdown as the results.
constexpr std::string_view run_autograder = R"sh(#!/usr/bin/env bash
# Gradescope runs this for each submission, as root: /autograder/submission holds what the student uploaded
# (their copy of starter/, or the whole kit with starter/ in it); /autograder/results/results.json is read back.
set -uo pipefail
cd /autograder/source
mkdir -p /autograder/results
rm -rf /autograder/grading
export CLUSTERKIT_RESULTS_VISIBILITY="$(cat visibility.txt)"
if ./kit grade /autograder/submission --name submission --lessons "$(cat lessons.txt)" --jobs 1 \
     --out /autograder/grading && [ -f /autograder/grading/submission/results.json ]; then
  cp /autograder/grading/submission/results.json /autograder/results/results.json
  cat /autograder/grading/submission/report.md
else
  # The grader itself failed (not the student's code): say so instead of a silent zero.
  printf '{"score": 0, "output": "**The ClusterKit autograder failed**: please tell your instructor.", "output_format": "md", "visibility": "%s", "tests": []}\n' \
    "$CLUSTERKIT_RESULTS_VISIBILITY" >/autograder/results/results.json
fi
)sh";

void write_script(const fs::path& file, std::string_view text) {
    std::ofstream(file) << text;
    fs::permissions(file, fs::perms(0755));
}

}  // namespace

int command_gradescope(const Args& args) {
    po::options_description options("options");
    options.add_options()
        ("out", po::value<std::string>()->default_value("build/gradescope-autograder.zip"), "the zip to write")
        ("lessons", po::value<std::string>()->default_value(""),
         "the lessons this assignment grades, e.g. 01,02 (default: all)")
        ("visibility", po::value<std::string>()->default_value("visible"),
         ("when students see the results: " + gradescope_visibility_list() + " (Gradescope's values)").c_str());
    const auto values = parse_args(args, "gradescope [--out FILE] [--lessons LIST] [--visibility V]", options);
    const auto root = kit_root();
    const fs::path zip = fs::absolute(values["out"].as<std::string>());
    const std::string visibility = values["visibility"].as<std::string>();
    if (std::ranges::find(gradescope_visibilities, visibility) == gradescope_visibilities.end())
        throw UsageError("--visibility wants " + gradescope_visibility_list() + ", not '" + visibility + "'");
    std::string lessons = values["lessons"].as<std::string>();
    if (lessons.empty()) {
        for (const auto& lesson : read_lessons(root)) lessons += (lessons.empty() ? "" : ",") + lesson.number;
    }

    const fs::path staging = fs::temp_directory_path() / ("clusterkit-gradescope-" + std::to_string(::getpid()));
    fs::remove_all(staging);
    struct Cleanup {
        fs::path dir;
        ~Cleanup() {
            std::error_code ignored;
            fs::remove_all(dir, ignored);
        }
    } cleanup{staging};
    const auto copied = write_release(root, staging);
    write_script(staging / "setup.sh", setup_sh);
    write_script(staging / "run_autograder", run_autograder);
    std::ofstream(staging / "lessons.txt") << lessons << "\n";
    std::ofstream(staging / "visibility.txt") << visibility << "\n";

    // The zip, written by CMake (libarchive): setup.sh and run_autograder at its root, as Gradescope wants.
    std::vector<std::string> entries;
    for (const auto& entry : fs::directory_iterator(staging)) entries.push_back(entry.path().filename().string());
    std::ranges::sort(entries);
    std::vector<std::string> tar_args = {"-E", "tar", "cf", zip.string(), "--format=zip", "--"};
    tar_args.insert(tar_args.end(), entries.begin(), entries.end());
    fs::create_directories(zip.parent_path());
    fs::remove(zip);
    const auto zipped = run_logged({find_program("cmake"), tar_args, staging}, staging / "zip.log");  // not listed
    if (zipped.killed_by_signal || zipped.code != 0) throw std::runtime_error("cmake -E tar could not write " + zip.string());
    std::cout << "kit gradescope: " << zip.string() << " (" << copied.size() + 4 << " files; lessons " << lessons
              << "; results " << visibility << ")\n"
              << "kit gradescope: upload it as the autograder of a Gradescope programming assignment whose base image "
                 "is Ubuntu 24.04; Gradescope's default, Ubuntu 22.04, cannot build the kit (docs/instructor.md, "
                 "'Gradescope').\n"
              << "kit gradescope: setup.sh builds the kit and its tests into the image; run_autograder runs kit grade on "
                 "/autograder/submission and writes /autograder/results/results.json\n";
    return exit_status::ok;
}

}  // namespace clusterkit::kit
