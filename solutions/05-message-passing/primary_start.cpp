// Lesson 05: how the primary starts: its signals, and each worker with its two pipes (Node's cluster.fork() with
// its IPC channel). See primary.hpp; the work queue that the workers' messages drive is in primary.cpp.
//
// A file of its own for the build's sake: Boost.Process's `process` with its initialisers is the heaviest
// template of the primary, and here it compiles once, not again on every edit of primary.cpp.
#include "primary.hpp"

#include <clusterkit/events.hpp>
#include <clusterkit/fd.hpp>
#include <clusterkit/supervisor.hpp>

#include <csignal>
#include <unistd.h>

namespace lesson05 {
namespace asio = boost::asio;
namespace bp = boost::process::v2;
namespace json = boost::json;

namespace {

// The worker finds the channel from the primary on stdin, and the channel to the primary on this descriptor,
// named in its environment as Node names its channel in NODE_CHANNEL_FD.
constexpr int channel_fd = 3;

}  // namespace

Primary::Primary(asio::io_context& context, PrimaryConfig config)
    : context_(context), config_(std::move(config)), stop_signals_(context, SIGTERM, SIGINT), grace_timer_(context) {
    for (int task = 1; task <= config_.tasks; ++task) pending_.push_back(task);
}

void Primary::start() {
    clusterkit::emit("primary", {{"pid", ::getpid()}, {"workers", config_.workers}, {"tasks", config_.tasks}});
    stop_signals_.async_wait([this](boost::system::error_code error, int) {
        if (!error) stop();
    });
    for (int id = 1; id <= config_.workers; ++id) start_worker(id);
}

// Node's cluster.fork() with its IPC channel: two pipes, primary -> worker on the worker's stdin, and
// worker -> primary on the worker's descriptor 3.
void Primary::start_worker(int id) {
    asio::writable_pipe to_worker(context_);
    auto from_worker = clusterkit::Pipe::open();
    bp::process process(context_, config_.worker_program, config_.worker_args, bp::process_stdio{to_worker, {}, {}},
                        clusterkit::BindFd{channel_fd, from_worker.write_end.get()},
                        clusterkit::EnvironmentWith({{"CLUSTERKIT_WORKER_ID", std::to_string(id)},
                                                     {"CLUSTERKIT_CHANNEL_FD", std::to_string(channel_fd)}}),
                        clusterkit::DieWithParent{});
    from_worker.write_end.reset();  // the worker's end: only the worker may hold it, or we never see end-of-file
    const pid_t pid = process.id();
    auto channel = Channel::create(asio::readable_pipe(context_, from_worker.read_end.release()), std::move(to_worker));
    auto& worker = *(workers_[id] = std::make_unique<Worker>(Worker{id, pid, std::move(process), channel, std::nullopt}));
    clusterkit::emit("fork", {{"id", id}, {"pid", pid}});

    // The handlers find this very worker; a replacement under the same id is another Worker object.
    Worker* const self = &worker;
    channel->start({
        .on_message = [this, self](const json::object& message) { on_message(*self, message); },
        .on_malformed = [this, self](const std::string& why) { on_malformed(*self, why); },
        .on_closed = [this, self](boost::system::error_code) { on_channel_end(*self); },
    });
    worker.process.async_wait([this, self](boost::system::error_code error, int) {
        if (error) return fail("waiting for worker " + std::to_string(self->id) + ": " + error.message());
        on_reaped(*self, self->process.native_exit_code());
    });
}

}  // namespace lesson05
