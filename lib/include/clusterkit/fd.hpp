// File descriptors owned by RAII objects, and whole reads and writes on them.
//
// A descriptor left open in the wrong process is a classic multi-process bug: a pipe never reaches
// end-of-file while some forgotten copy of its write end is open. UniqueFd closes on every path.
#pragma once

#include <cstddef>
#include <span>
#include <utility>

namespace clusterkit {

class UniqueFd {
public:
    UniqueFd() = default;
    explicit UniqueFd(int fd) noexcept : fd_(fd) {}
    UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    UniqueFd& operator=(UniqueFd&& other) noexcept;
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;
    ~UniqueFd() { reset(); }

    int get() const noexcept { return fd_; }
    bool is_open() const noexcept { return fd_ >= 0; }
    int release() noexcept { return std::exchange(fd_, -1); }
    void reset() noexcept;

private:
    int fd_ = -1;
};

// A pipe(2), both ends close-on-exec.
struct Pipe {
    UniqueFd read_end;
    UniqueFd write_end;

    static Pipe open();
};

// Writes every byte, looping over partial writes and EINTR. Throws std::system_error naming write(2).
// Async-signal-safe apart from the throw, so a forked child may call it inside a try block.
void write_all(int fd, std::span<const std::byte> bytes);

// Reads exactly bytes.size() bytes. Returns false on end-of-file before the first byte; throws
// std::system_error for an error and std::runtime_error for end-of-file in the middle.
bool read_exact(int fd, std::span<std::byte> bytes);

}  // namespace clusterkit
