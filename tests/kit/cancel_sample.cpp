// kit-cancel-sample: a test binary for `kit verify`'s early end (test_pipeline.cpp). Its first case fails as
// soon as its second has started a process that leads a group of its own; the second would then run for a
// minute. Run two at a time and stopped at the first failure, the second must be cancelled at once, with the
// process it started, and the /dev/shm object and the temporary folder it made removed. The two meet at a FIFO
// that the kit's test makes: $CLUSTERKIT_SAMPLE_FIFO.
// Not a CTest test: its failure is its purpose.
#include "catch.hpp"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <unistd.h>

namespace {

std::string fifo() {
    const char* path = std::getenv("CLUSTERKIT_SAMPLE_FIFO");
    REQUIRE(path != nullptr);
    return path;
}

}  // namespace

TEST_CASE("a check that fails once the next one is under way", "[cancel-sample]") {
    std::ifstream from_next(fifo());  // opening blocks until the next case opens it for writing
    pid_t started = 0;
    std::string folder;
    from_next >> started >> folder;
    INFO("the next case started process " << started);
    INFO("the next case made the folder " << folder);
    CHECK(started == 0);
}

TEST_CASE("a check that would run for a minute, with a process of its own group", "[cancel-sample]") {
    const pid_t child = ::fork();
    REQUIRE(child != -1);
    if (child == 0) {
        ::setpgid(0, 0);  // as a lesson program runs: a process group of its own, in the test's session
        ::pause();
        std::_Exit(0);
    }
    // A shared memory object under the run's prefix, which the kill leaves to the kit to remove.
    const char* prefix = std::getenv("CLUSTERKIT_SHM_PREFIX");
    REQUIRE(prefix != nullptr);
    REQUIRE(std::ofstream("/dev/shm/" + std::string(prefix) + "-sample") << "segment");
    // And a folder of temporary files, as lesson 07's tests deploy programs: its destructor will not run.
    const auto folder = std::filesystem::temp_directory_path() / "clusterkit-cancel-sample";
    REQUIRE(std::filesystem::create_directory(folder));
    std::ofstream(fifo()) << child << ' ' << folder.string() << '\n';
    std::this_thread::sleep_for(std::chrono::minutes(1));  // the hang that cancelling must cut short
    CHECK(true);
}
