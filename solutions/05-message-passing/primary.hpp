// Lesson 05: the primary, a work queue. It hands out tasks to N workers, one task at a time per worker,
// over each worker's channel, and collects the results as messages: Node's worker.send() and the
// 'message' event. No task is lost: a worker that dies (or breaks the protocol and is stopped) is replaced
// under the same id, as in lesson 03, and its task goes back to the front of the queue. At the end, and on
// SIGTERM or SIGINT, a `shutdown` message to every worker (Node's disconnect) lets each finish its task and
// exit with code 0.
#pragma once

#include "channel.hpp"

#include <clusterkit/process.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace lesson05 {

struct PrimaryConfig {
    std::filesystem::path worker_program;
    std::vector<std::string> worker_args;
    int workers = 1;
    int tasks = 20;
    std::int64_t task_size = 10000;
    std::size_t echo_bytes = 0;   // in echo mode, each task carries a payload of this many bytes, and back
    int max_attempts = 3;         // a task that ended this many workers is poison: give up
    int max_restarts = 10;        // replacements allowed in one run
    std::chrono::milliseconds grace{3000};  // from the shutdown message to SIGKILL
};

class Primary {
public:
    Primary(boost::asio::io_context& context, PrimaryConfig config);

    // Starts the workers and listens for SIGTERM and SIGINT; then run the io_context: it returns after `done`.
    void start();
    // 1 after a run-time failure or a worker that broke the protocol, 0 otherwise.
    int exit_status() const { return failed_ ? 1 : 0; }

private:
    struct Worker {
        int id;
        pid_t pid;  // kept here: after detach() the process object no longer knows it
        boost::process::v2::process process;
        std::shared_ptr<Channel> channel;
        std::optional<int> task;  // the task in flight, until its result comes back
        bool online = false;
        bool running = true;       // not yet reaped
        bool channel_open = true;  // not yet at end-of-file (or closed by us)
    };

    void start_worker(int id);
    void on_message(Worker& worker, const boost::json::object& message);
    void on_result(Worker& worker, const boost::json::object& message);
    void on_malformed(Worker& worker, const std::string& why);
    void on_channel_end(Worker& worker);
    void on_reaped(Worker& worker, int raw_status);
    void end_if_gone(Worker& worker);
    void dispatch();
    void send_task(Worker& worker, int task);
    void finish_if_all_done();
    void stop();
    void kill_remaining();
    void kill_worker(Worker& worker);
    void finish_if_all_ended();
    void fail(const std::string& message);

    boost::asio::io_context& context_;
    PrimaryConfig config_;
    boost::asio::signal_set stop_signals_;
    boost::asio::steady_timer grace_timer_;
    std::map<int, std::unique_ptr<Worker>> workers_;  // by id
    std::deque<int> pending_;                  // tasks not yet handed out, next first
    std::map<int, int> attempts_;              // by task: how often it was handed out
    std::map<int, std::int64_t> results_;      // by task
    int restarts_ = 0;
    bool stopping_ = false;
    bool failed_ = false;
};

}  // namespace lesson05
