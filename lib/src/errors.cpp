// Errors: the error line, system errors that name their call, and the child-side exit. See errors.hpp.
#include "clusterkit/errors.hpp"

#include <array>
#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>
#include <unistd.h>

namespace clusterkit {
namespace {

// Appends text to a fixed buffer without allocating (callable between fork and _exit).
class LineBuffer {
public:
    LineBuffer& operator<<(std::string_view text) noexcept {
        const std::size_t room = buffer_.size() - size_;
        const std::size_t count = text.size() < room ? text.size() : room;
        std::memcpy(buffer_.data() + size_, text.data(), count);
        size_ += count;
        return *this;
    }
    void write_line_to(int fd) noexcept {
        if (size_ == buffer_.size()) --size_;
        buffer_[size_++] = '\n';
        const char* data = buffer_.data();
        std::size_t left = size_;
        while (left > 0) {
            const ssize_t written = ::write(fd, data, left);
            if (written < 0 && errno == EINTR) continue;
            if (written <= 0) return;  // nothing better to do with an error about reporting an error
            data += written;
            left -= static_cast<std::size_t>(written);
        }
    }

private:
    std::array<char, 1024> buffer_{};
    std::size_t size_ = 0;
};

}  // namespace

void throw_system_error(std::string_view call) {
    throw std::system_error(errno, std::generic_category(), std::string(call));
}

void report_error(std::string_view program, std::string_view message) noexcept {
    LineBuffer line;
    line << program << ": error: " << message;
    line.write_line_to(STDERR_FILENO);
}

void print_help(std::string_view text) noexcept {
    ssize_t ignored = ::write(STDOUT_FILENO, text.data(), text.size());
    (void)ignored;  // help that cannot be printed has nowhere else to go
}

void child_fail(std::string_view program, std::string_view call) noexcept {
    const int error = errno;
    LineBuffer line;
    line << program << ": error: " << call << ": " << strerrordesc_np(error);
    line.write_line_to(STDERR_FILENO);
    ::_exit(exit_status::failure);
}

}  // namespace clusterkit
