// A worker's line to its primary, and its heartbeat. See primary_link.hpp.
#include "clusterkit/primary_link.hpp"

#include "clusterkit/cli.hpp"

#include <cstdlib>
#include <fcntl.h>
#include <string>
#include <unistd.h>

namespace clusterkit {
namespace {

std::optional<int> environment_number(const char* name) {
    const char* text = std::getenv(name);
    return parse_whole_number(text ? text : "");
}

}  // namespace

PrimaryLink PrimaryLink::from_environment() {
    const auto fd = environment_number("CLUSTERKIT_CONTROL_FD");
    if (!fd || ::fcntl(*fd, F_SETFL, ::fcntl(*fd, F_GETFL) | O_NONBLOCK) != 0) return PrimaryLink(-1);
    return PrimaryLink(*fd);
}

void PrimaryLink::send(std::string_view name, std::initializer_list<Field> fields) const noexcept {
    if (fd_ < 0) return;
    try {
        const std::string line = format_event(name, std::vector<Field>(fields)) + '\n';
        [[maybe_unused]] const auto written = ::write(fd_, line.data(), line.size());  // a pipe: whole, or not at all
    } catch (...) {
        // a line that cannot be formatted is a bug in the caller; it must not end the worker
    }
}

Heartbeat::Heartbeat(boost::asio::io_context& context, const PrimaryLink& primary)
    : primary_(primary), timer_(context) {
    if (const auto ms = environment_number("CLUSTERKIT_HEARTBEAT_MS"); ms && *ms > 0)
        interval_ = std::chrono::milliseconds(*ms);
}

void Heartbeat::start() {
    if (primary_.connected() && interval_ > std::chrono::milliseconds::zero()) beat_later();
}

void Heartbeat::stop() { timer_.cancel(); }

void Heartbeat::beat_later() {
    timer_.expires_after(interval_);
    timer_.async_wait([this](boost::system::error_code error) {
        if (error) return;
        primary_.send("beat");
        beat_later();
    });
}

}  // namespace clusterkit
