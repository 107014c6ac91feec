// Worker programs on disk for the tests of lessons 07 and 08: deployed the way a real deploy does it, and
// faults made by programs, never by sleeps.
//
// A Deployment is a temporary folder with `current`, a symbolic link to the worker program that runs: give
// `current()` to --exec. deploy() points it at another program with one rename(2), atomic, so a worker
// started at any moment runs one program or the other, whole. script() writes a small shell script there to
// deploy: one that never says ready, one that dies at start, one that waits at a Gate before it becomes the
// real worker.
//
//     Deployment release;
//     release.deploy(program_path("lesson07-worker"));
//     Program server("lesson07", {.args = {"--exec", release.current()}});
//     release.deploy(release.script("broken", "exit 3"));
#pragma once

#include "processes.hpp"

#include <clusterkit/fd.hpp>

#include <filesystem>
#include <string>
#include <string_view>
#include <sys/types.h>

namespace clusterkit::testing {

class Deployment {
public:
    Deployment();   // a new folder under the system's temporary folder
    ~Deployment();  // removes it
    Deployment(const Deployment&) = delete;
    Deployment& operator=(const Deployment&) = delete;

    const std::filesystem::path& dir() const { return dir_; }
    // The path to give --exec: a symbolic link to the program deployed last.
    std::string current() const;
    // Makes `current` point to `program`, atomically.
    void deploy(const std::filesystem::path& program);
    // An executable file `name` in the folder: "#!/bin/sh" and `body`.
    std::filesystem::path script(std::string_view name, std::string_view body) const;
    // A copy of `program` named `name` in the folder: a new build of the same program, another file.
    std::filesystem::path copy(const std::filesystem::path& program, std::string_view name) const;

private:
    std::filesystem::path dir_;
};

// A named pipe (FIFO) that worker scripts wait at: `read line < FIFO` blocks until the test lets one through.
// The test holds the pipe open for reading and writing, so a script's read blocks (no end-of-file) until
// open() writes a line for it.
class Gate {
public:
    explicit Gate(const std::filesystem::path& path);
    // A shell command that waits here, then runs `program` in the same process: `exec program "$@"`.
    std::string wait_then_exec(const std::filesystem::path& program) const;
    // Lets `count` more waiting (or future) scripts through.
    void open(int count);

private:
    std::filesystem::path path_;
    UniqueFd fd_;
};

// The inode of the program that process `pid` runs (/proc/PID/exe), or of a file; 0 if it cannot be read.
// Two processes run the same build when these are equal, even after the file was renamed over.
ino_t program_inode(pid_t pid);
ino_t file_inode(const std::filesystem::path& path);

}  // namespace clusterkit::testing
