// kit gradescope [--out FILE] [--lessons LIST]: the autograder zip for a Gradescope programming assignment.
//
// Gradescope unpacks the zip into /autograder/source, runs setup.sh once to build the image, then
// run_autograder for each submission, and reads /autograder/results/results.json. The zip holds the kit as
// a student release (no solutions), setup.sh (the Debian packages, the kit tool, the tests, and one slot's
// build of the kit library, all built once into the image) and run_autograder (kit grade on
// /autograder/submission). The same grader, sandbox and rubrics as `kit grade` on your machine.
#include "args.hpp"
#include "commands.hpp"
#include "exec.hpp"
#include "release.hpp"
#include "repo.hpp"

#include <clusterkit/errors.hpp>

#include <fstream>
#include <iostream>
#include <unistd.h>

namespace clusterkit::kit {
namespace {

constexpr std::string_view setup_sh = R"sh(#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image (the zip is in /autograder/source).
# ClusterKit is made for Debian 12 (Boost 1.81): choose a Debian 12 base image for the assignment.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends cmake ninja-build g++ libboost1.81-dev \
  libboost-program-options1.81-dev catch2 patch git ca-certificates >/dev/null
cd /autograder/source
chmod +x kit run_autograder
# The kit tool, the tests and the rubric check, built into the image: grading then builds only the lessons.
./kit grade --check-rubrics --lessons "$(cat lessons.txt)"
./kit grade --prepare --lessons "$(cat lessons.txt)"
)sh";

constexpr std::string_view run_autograder = R"sh(#!/usr/bin/env bash
# Gradescope runs this for each submission, as root: /autograder/submission holds what the student uploaded
# (their copy of starter/, or the whole kit with starter/ in it); /autograder/results/results.json is read back.
set -uo pipefail
cd /autograder/source
mkdir -p /autograder/results
rm -rf /autograder/grading
if ./kit grade /autograder/submission --name submission --lessons "$(cat lessons.txt)" --jobs 1 \
     --out /autograder/grading && [ -f /autograder/grading/submission/results.json ]; then
  cp /autograder/grading/submission/results.json /autograder/results/results.json
  cat /autograder/grading/submission/report.md
else
  # The grader itself failed (not the student's code): say so instead of a silent zero.
  printf '{"score": 0, "output": "The ClusterKit autograder failed; please tell your instructor.", "tests": []}\n' \
    >/autograder/results/results.json
fi
)sh";

void write_script(const fs::path& file, std::string_view text) {
    std::ofstream(file) << text;
    fs::permissions(file, fs::perms(0755));
}

}  // namespace

int command_gradescope(const Args& args) {
    po::options_description options("options");
    options.add_options()("out", po::value<std::string>()->default_value("build/gradescope-autograder.zip"),
                          "the zip to write")("lessons", po::value<std::string>()->default_value(""),
                                              "the lessons this assignment grades, e.g. 01,02 (default: all)");
    const auto values = parse_args(args, "gradescope [--out FILE] [--lessons LIST]", options);
    const auto root = kit_root();
    const fs::path zip = fs::absolute(values["out"].as<std::string>());
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

    fs::create_directories(zip.parent_path());
    fs::create_directories(staging);
    fs::remove(zip);
    fs::path zip_program;
    try {
        zip_program = find_program("zip");
    } catch (const std::exception&) {
        if (::geteuid() != 0) throw std::runtime_error("zip is not installed: apt-get install zip");
        std::cout << "kit gradescope: installing Debian's zip\n";
        run_logged({find_program("apt-get"), {"install", "-y", "-qq", "zip"}}, staging / "apt.log");
        zip_program = find_program("zip");
    }
    const auto zipped = run_logged({zip_program, {"-q", "-r", zip.string(), ".", "-x", "zip.log", "apt.log"}, staging},
                                   staging / "zip.log");
    if (zipped.killed_by_signal || zipped.code != 0) throw std::runtime_error("zip failed (is Debian's zip installed?)");
    std::cout << "kit gradescope: " << zip.string() << " (" << copied.size() + 3 << " files; lessons " << lessons
              << "): upload it as the autograder of a Gradescope programming assignment with a Debian 12 base image.\n"
              << "kit gradescope: setup.sh builds the kit and its tests into the image; run_autograder runs kit grade on "
                 "/autograder/submission and writes /autograder/results/results.json\n";
    return exit_status::ok;
}

}  // namespace clusterkit::kit
