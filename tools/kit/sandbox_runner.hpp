// The grader's runner of the pipeline (pipeline.hpp): one test case in the sandbox (sandbox.hpp), so that
// `kit grade` lists, runs and reads test cases the way `kit verify` does, and only the runner differs.
#pragma once

#include "pipeline.hpp"
#include "sandbox.hpp"

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace clusterkit::kit {

// What the sandbox found wrong around a run, one sentence each, in the words of a grade: the deadline, a
// signal (the CPU-time and file-size limits named), the output cap, processes and objects left behind. Why
// the test itself failed, or did not start, is read_case()'s to say.
std::vector<std::string> sandbox_problems(const SandboxResult& result, const SandboxLimits& limits);

class SandboxRunner : public TestRunner {
public:
    // `visible`: what the run may read besides the test binary (the test's helper, the programs under
    // test). Runs one case at a time: a Sandbox belongs to one thread.
    SandboxRunner(Sandbox& sandbox, std::vector<std::filesystem::path> visible, std::chrono::seconds deadline)
        : sandbox_(sandbox), visible_(std::move(visible)), deadline_(deadline) {}

    // The record file lies in run.work, a folder the run may write (owned by the sandbox's user), which is
    // removed afterwards. The grader reads it as data it does not trust: a regular file, not a link, capped.
    RunnerResult run(const CaseRun& run) override;

private:
    Sandbox& sandbox_;
    std::vector<std::filesystem::path> visible_;
    std::chrono::seconds deadline_;
};

}  // namespace clusterkit::kit
