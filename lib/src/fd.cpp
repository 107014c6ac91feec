// File descriptors: RAII ownership and whole reads and writes. See fd.hpp.
#include "clusterkit/fd.hpp"

#include "clusterkit/errors.hpp"

#include <cerrno>
#include <fcntl.h>
#include <stdexcept>
#include <unistd.h>

namespace clusterkit {

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
        reset();
        fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
}

void UniqueFd::reset() noexcept {
    // close(2) must not be retried on EINTR on Linux: the descriptor is gone either way.
    if (fd_ >= 0) ::close(std::exchange(fd_, -1));
}

Pipe Pipe::open() {
    int ends[2];
    if (::pipe2(ends, O_CLOEXEC) != 0) throw_system_error("pipe2");
    return Pipe{UniqueFd(ends[0]), UniqueFd(ends[1])};
}

void write_all(int fd, std::span<const std::byte> bytes) {
    while (!bytes.empty()) {
        const ssize_t written = ::write(fd, bytes.data(), bytes.size());
        if (written < 0) {
            if (errno == EINTR) continue;
            throw_system_error("write");
        }
        bytes = bytes.subspan(static_cast<std::size_t>(written));
    }
}

bool read_exact(int fd, std::span<std::byte> bytes) {
    std::size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t got = ::read(fd, bytes.data() + done, bytes.size() - done);
        if (got < 0) {
            if (errno == EINTR) continue;
            throw_system_error("read");
        }
        if (got == 0) {
            if (done == 0) return false;
            throw std::runtime_error("read: end of file in the middle of a value");
        }
        done += static_cast<std::size_t>(got);
    }
    return true;
}

}  // namespace clusterkit
