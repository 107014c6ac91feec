// A worker's line to its primary (lessons 07 and 08): the write end of a pipe that the worker inherits as the
// descriptor named in CLUSTERKIT_CONTROL_FD (the Supervisor's `control_fd`). The worker writes event lines there,
// one write(2) each, as on stdout: `ready` once it accepts connections (Node's 'listening', not 'online'), and
// `beat` every CLUSTERKIT_HEARTBEAT_MS milliseconds to show that its event loop still turns. The primary reads
// them (SupervisorConfig::on_message).
//
//     const auto primary = clusterkit::PrimaryLink::from_environment();
//     clusterkit::Heartbeat heartbeat(context, primary);
//     server.start();
//     primary.send("ready");
//     heartbeat.start();
#pragma once

#include "clusterkit/events.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <initializer_list>
#include <string_view>

namespace clusterkit {

class PrimaryLink {
public:
    // The pipe named in CLUSTERKIT_CONTROL_FD, made non-blocking; without that variable, a link that sends
    // nothing (a primary that reads no messages, such as lesson 06's).
    static PrimaryLink from_environment();

    bool connected() const { return fd_ >= 0; }
    // One event line, in one write(2). Never blocks, never throws: a line that finds the pipe full or the
    // primary gone is dropped (the lifeline tells the worker when the primary is gone).
    void send(std::string_view name, std::initializer_list<Field> fields = {}) const noexcept;

private:
    explicit PrimaryLink(int fd) : fd_(fd) {}
    int fd_ = -1;  // not owned: the inherited descriptor lives as long as the worker
};

// Sends `beat` on the link every CLUSTERKIT_HEARTBEAT_MS milliseconds, from the worker's event loop: a worker
// whose loop is stuck in a handler stops beating, and its primary can tell (lesson 08).
class Heartbeat {
public:
    Heartbeat(boost::asio::io_context& context, const PrimaryLink& primary);

    void start();  // does nothing without CLUSTERKIT_HEARTBEAT_MS or a link
    void stop();   // when draining: a pending timer would keep the event loop running

private:
    void beat_later();

    const PrimaryLink& primary_;
    boost::asio::steady_timer timer_;
    std::chrono::milliseconds interval_{0};
};

}  // namespace clusterkit
