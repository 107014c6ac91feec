// Lesson 03: the supervisor, declared in lib/include/clusterkit/supervisor.hpp (see there what it does;
// lessons/03-exit-handling/README.md says why). This file is the one implementation of that header: the
// later lessons that use a supervisor (05's DieWithParent, 06's workers) are built with your lesson 03.
#include <clusterkit/supervisor.hpp>

#include <clusterkit/errors.hpp>
#include <clusterkit/events.hpp>
#include <clusterkit/wait_status.hpp>

#include <boost/asio/post.hpp>

#include <csignal>
#include <iostream>
#include <sys/prctl.h>
#include <unistd.h>

namespace clusterkit {
namespace asio = boost::asio;
namespace bp = boost::process::v2;

// Run in the child between fork and exec: the kernel sends the worker SIGKILL when the primary dies, so a
// primary killed with SIGKILL leaves no orphan behind. If the primary already died before prctl() ran, the
// parent is no longer the primary: give up at once.
boost::system::error_code DieWithParent::in_child() const {
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != parent) ::_exit(exit_status::failure);
    return {};
}

RestartBudget::RestartBudget(int max_restarts, std::chrono::seconds within)
    : max_restarts_(max_restarts), within_(within) {}

bool RestartBudget::spend(Clock::time_point now) {
    while (!recent_.empty() && now - recent_.front() >= within_) recent_.pop_front();
    recent_.push_back(now);
    return static_cast<int>(recent_.size()) <= max_restarts_;
}

Supervisor::Supervisor(asio::io_context& context, SupervisorConfig config)
    : context_(context),
      config_(std::move(config)),
      restarts_(config_.max_restarts, config_.within),
      stop_signals_(context, SIGTERM, SIGINT),
      grace_timer_(context) {}

void Supervisor::start() {
    emit("primary", {{"pid", ::getpid()}, {"workers", config_.workers}});
    // A signal is only noted by Asio's handler; the stop itself runs here, in the event loop.
    stop_signals_.async_wait([this](boost::system::error_code error, int) {
        if (!error) stop();
    });
    for (int id = 1; id <= config_.workers; ++id) start_worker(id);
}

// Node's cluster.fork(): a new process of the worker program, with its id in the environment.
void Supervisor::start_worker(int id) {
    asio::writable_pipe lifeline(context_);
    auto environment = config_.worker_environment;
    environment.emplace_back("CLUSTERKIT_WORKER_ID", std::to_string(id));
    bp::process process(context_, config_.worker_program, config_.worker_args, bp::process_stdio{lifeline, {}, {}},
                        EnvironmentWith(environment), BindFds{config_.worker_fds}, DieWithParent{});
    const pid_t pid = process.id();
    auto& worker = *(workers_[id] = std::make_unique<Worker>(Worker{id, pid, std::move(process), std::move(lifeline)}));
    emit("fork", {{"id", id}, {"pid", pid}});
    // Boost.Process returns only once exec succeeded, so the worker program is running.
    emit("online", {{"id", id}, {"pid", pid}});
    watch(worker);
}

// One asynchronous wait per worker: each death is reaped as soon as it happens, whichever worker it is.
void Supervisor::watch(Worker& worker) {
    worker.process.async_wait([this, id = worker.id](boost::system::error_code error, int) {
        if (error) return fail("waiting for worker " + std::to_string(id) + ": " + error.message());
        // native_exit_code() is the raw wait status: it tells an exit code from a signal (exit_code() cannot).
        on_worker_exit(id, workers_.at(id)->process.native_exit_code());
    });
}

void Supervisor::on_worker_exit(int id, int raw_status) {
    auto& worker = *workers_.at(id);
    const pid_t pid = worker.pid;
    worker.running = false;
    worker.process.detach();  // reaped: its destructor must never signal that pid, which may be reused
    const auto status = WaitStatus::from_raw(raw_status);
    emit("exit", {{"id", id}, {"pid", pid}, status.field()});
    // Drop the old worker after this handler has returned: its wait operation still refers to it.
    asio::post(context_, [this, id, pid, ended = &worker] {
        if (workers_.contains(id) && workers_.at(id).get() == ended) workers_.erase(id);
        if (stopping_) return finish_if_all_ended();
        std::cout << pid << " bit the dust" << std::endl;  // the seed's line; not an event line
        replace(id);
    });
}

void Supervisor::replace(int id) {
    if (!restarts_.spend(RestartBudget::Clock::now())) {
        return fail("more than " + std::to_string(restarts_.max_restarts()) + " restarts within " +
                    std::to_string(restarts_.within().count()) + " s: a crash loop, giving up");
    }
    try {
        start_worker(id);
    } catch (const std::exception& error) {
        fail("cannot restart worker " + std::to_string(id) + ": " + error.what());
    }
}

// A deliberate stop: no replacements; SIGTERM now, SIGKILL for whoever is left after the grace period.
void Supervisor::stop() {
    if (stopping_) return kill_remaining();  // asked twice: do not wait any longer
    stopping_ = true;
    if (config_.on_stop) config_.on_stop();
    stop_signals_.async_wait([this](boost::system::error_code error, int) {
        if (!error) stop();
    });
    for (auto& [id, worker] : workers_)
        if (worker->running) worker->process.request_exit();
    grace_timer_.expires_after(config_.grace);
    grace_timer_.async_wait([this](boost::system::error_code error) {
        if (!error) kill_remaining();
    });
    finish_if_all_ended();
}

void Supervisor::kill_remaining() {
    // Not process.terminate(): it would reap the worker behind the pending async_wait's back. Only workers
    // not yet reaped: a reaped worker's pid may already belong to another process.
    for (auto& [id, worker] : workers_)
        if (worker->running && worker->pid > 0) ::kill(worker->pid, SIGKILL);
}

void Supervisor::finish_if_all_ended() {
    if (!stopping_ || !workers_.empty()) return;
    grace_timer_.cancel();
    stop_signals_.cancel();
    emit("done");
}

void Supervisor::fail(const std::string& message) {
    report_error(config_.program, message);
    failed_ = true;
    stop();
}

}  // namespace clusterkit
