// Lesson 05: the primary's work queue. See primary.hpp for what it does; lessons/05-message-passing/README.md
// for why. How the primary starts its workers is in primary_start.cpp.
// YOUR CODE: fill in the TODO(lesson 05) gaps below.
#include "primary.hpp"
#include "tasks.hpp"

#include <clusterkit/errors.hpp>
#include <clusterkit/events.hpp>
#include <clusterkit/wait_status.hpp>

#include <boost/asio/post.hpp>

#include <csignal>
#include <utility>
#include <unistd.h>

namespace lesson05 {
namespace asio = boost::asio;
namespace json = boost::json;

namespace {

constexpr std::string_view program = "lesson05";

}  // namespace

// Node's worker.on('message'): what a worker says. `online` is its first message, as in Node.
void Primary::on_message(Worker& worker, const json::object& message) {
    const auto type = *string_field(message, "type");
    if (type == "online" && !worker.online) {
        worker.online = true;
        clusterkit::emit("online", {{"id", worker.id}, {"pid", worker.pid}});
        dispatch();
        return finish_if_all_done();
    }
    if (type == "result") return on_result(worker, message);
    on_malformed(worker, "unexpected message type '" + std::string(type) + "'");
}

void Primary::on_result(Worker& worker, const json::object& message) {
    const auto task = integer_field(message, "task");
    const auto result = integer_field(message, "result");
    if (!task || !result || *result < 0) return on_malformed(worker, "a result without a task or a count");
    if (!worker.task || *task != *worker.task) {
        return on_malformed(worker, "a result for task " + std::to_string(*task) + ", which it was not given");
    }
    std::vector<clusterkit::Field> fields{{"from", worker.id}, {"task", *task}, {"result", *result}};
    if (config_.echo_bytes > 0) {
        const auto payload = string_field(message, "payload");
        if (!payload) return on_malformed(worker, "a result without its payload");
        fields.emplace_back("bytes", payload->size());
        fields.emplace_back("checksum", checksum(*payload));
    }
    results_[*worker.task] = *result;
    worker.task.reset();
    clusterkit::emit("message", fields);
    dispatch();
    finish_if_all_done();
}

// A frame that is not a message of the protocol: the worker is broken. Report it, stop the worker (its task
// goes back to the queue when it has ended) and go on with the others.
//tag::malformed[]
void Primary::on_malformed(Worker& worker, [[maybe_unused]] const std::string& why) {
    // TODO(lesson 05): report "worker I sent a malformed message: WHY" (one error line), remember that the
    // run failed (failed_), and stop the worker for good before its channel is closed.
    on_channel_end(worker);
}
//end::malformed[]

void Primary::on_channel_end(Worker& worker) {
    worker.channel->close();
    worker.channel_open = false;
    end_if_gone(worker);
}

void Primary::on_reaped(Worker& worker, int raw_status) {
    worker.running = false;
    worker.process.detach();  // reaped: its destructor must never signal that pid, which may be reused
    clusterkit::emit("exit", {{"id", worker.id}, {"pid", worker.pid}, clusterkit::WaitStatus::from_raw(raw_status).field()});
    end_if_gone(worker);
}

// A worker is gone once it has been reaped *and* its channel has ended: only then have all the messages it
// sent been read, so only then do we know whether its task is done.
//tag::requeue[]
void Primary::end_if_gone(Worker& worker) {
    if (worker.running || worker.channel_open) return;
    // TODO(lesson 05): no task is lost. Put the gone worker's task back at the front of pending_ and hand it
    // out; but fail() instead when it has already ended config_.max_attempts workers.
    worker.task.reset();
    finish_if_all_done();
    //end::requeue[]
    // Drop the worker after this handler has returned (its operations still refer to it), then replace it.
    asio::post(context_, [this, id = worker.id, ended = &worker] {
        if (workers_.contains(id) && workers_.at(id).get() == ended) workers_.erase(id);
        if (stopping_) return finish_if_all_ended();
        if (++restarts_ > config_.max_restarts) {
            return fail("more than " + std::to_string(config_.max_restarts) + " workers replaced: giving up");
        }
        try {
            start_worker(id);
        } catch (const std::exception& error) {
            fail("cannot restart worker " + std::to_string(id) + ": " + error.what());
        }
    });
}

// One task at a time per worker: each idle worker that is online gets the next pending task.
void Primary::dispatch() {
    if (stopping_) return;
    for (auto& [id, worker] : workers_) {
        if (pending_.empty()) break;
        if (!worker->online || worker->task || !worker->channel_open) continue;
        const int task = pending_.front();
        pending_.pop_front();
        send_task(*worker, task);
    }
}

void Primary::send_task(Worker& worker, int task) {
    worker.task = task;
    const auto range = task_range(task, config_.task_size);
    json::object message{{"type", "task"}, {"task", task}, {"attempt", ++attempts_[task]},
                         {"from", range.from}, {"to", range.to}};
    if (config_.echo_bytes > 0) message["payload"] = payload_for(task, config_.echo_bytes);
    worker.channel->send(message);
}

// Every task has its result: print the combined answer and shut the workers down.
void Primary::finish_if_all_done() {
    if (stopping_ || !pending_.empty()) return;
    for (const auto& [id, worker] : workers_)
        if (worker->task) return;
    std::int64_t primes = 0;
    for (const auto& [task, result] : results_) primes += result;
    clusterkit::emit("answer", {{"primes", primes}, {"tasks", static_cast<int>(results_.size())}});
    stop();
}

// Node's cluster.disconnect(): one `shutdown` message to every worker (a broadcast). Each finishes the task
// it has, sends its result, and exits with code 0. SIGKILL for whoever is left after the grace period.
//tag::stop[]
void Primary::stop() {
    if (stopping_) return kill_remaining();  // asked twice: do not wait any longer
    stopping_ = true;
    stop_signals_.async_wait([this](boost::system::error_code error, int) {
        if (!error) stop();
    });
    // TODO(lesson 05): broadcast a message of type "shutdown" to every worker whose channel is open.
    grace_timer_.expires_after(config_.grace);
    grace_timer_.async_wait([this](boost::system::error_code error) {
        if (!error) kill_remaining();
    });
    finish_if_all_ended();
}
//end::stop[]

void Primary::kill_remaining() {
    for (auto& [id, worker] : workers_) kill_worker(*worker);
}

// SIGKILL, only to a worker not yet reaped (its pid may belong to someone else afterwards) and only to a
// real pid: kill(0) or kill(-1) would hit our own process group or every process we may signal.
void Primary::kill_worker(Worker& worker) {
    if (worker.running && worker.pid > 0) ::kill(worker.pid, SIGKILL);
}

void Primary::finish_if_all_ended() {
    if (!stopping_ || !workers_.empty()) return;
    grace_timer_.cancel();
    stop_signals_.cancel();
    clusterkit::emit("done");
}

void Primary::fail(const std::string& message) {
    clusterkit::report_error(program, message);
    failed_ = true;
    stop();
}

}  // namespace lesson05
