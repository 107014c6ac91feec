// The supervisor: lesson 03's answer. See supervisor.hpp; why it works this way: lessons/03-exit-handling/README.md.
// Successors, retirement and control pipes (lessons 07-08): lessons/07-zero-downtime-reload/README.md.
#include "clusterkit/supervisor.hpp"

#include "clusterkit/errors.hpp"
#include "clusterkit/fd.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/read_until.hpp>

#include <algorithm>
#include <csignal>
#include <iostream>
#include <optional>
#include <unistd.h>

namespace clusterkit {
namespace asio = boost::asio;
namespace bp = boost::process::v2;

namespace {

// A Boost.Process v2 initializer: runs SupervisorConfig::in_child in the child, between fork and exec.
struct InChild {
    const std::function<bool()>& setup;

    template <typename Launcher>
    boost::system::error_code on_exec_setup(Launcher&, const std::filesystem::path&, const char* const*&) {
        if (setup && !setup()) return {errno, boost::system::system_category()};
        return {};
    }
};

}  // namespace

// The read end of one worker's control pipe. Its reads hold it (shared_ptr): it outlives the Worker, whose
// exit may be handled before the last line and the end-of-file are read.
struct Supervisor::ControlLines {
    asio::readable_pipe pipe;
    WorkerRef worker;
    std::string text{};  // read, not yet a whole line
};

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
    for (int id = 1; id <= config_.workers; ++id) start_worker(id, Role::serving);
}

// Node's cluster.fork(): a new process of the worker program, with its id in the environment.
Supervisor::Worker& Supervisor::start_worker(int id, Role role) {
    asio::writable_pipe lifeline(context_);
    auto environment = config_.worker_environment;
    environment.emplace_back("CLUSTERKIT_WORKER_ID", std::to_string(id));
    if (config_.environment_for) std::ranges::copy(config_.environment_for(id), std::back_inserter(environment));
    auto fds = config_.worker_fds;
    std::optional<Pipe> control;
    if (config_.control_fd > 0) {
        control = Pipe::open();
        fds.push_back(BindFd{config_.control_fd, control->write_end.get()});
        environment.emplace_back("CLUSTERKIT_CONTROL_FD", std::to_string(config_.control_fd));
    }
    bp::process process(context_, config_.worker_program, config_.worker_args, bp::process_stdio{lifeline, {}, {}},
                        EnvironmentWith(environment), BindFds{fds}, DieWithParent{}, InChild{config_.in_child},
                        ReapFailedChild{});
    const pid_t pid = process.id();
    auto& worker = *workers_.emplace_back(std::make_unique<Worker>(
        Worker{id, pid, ++serials_, role, std::move(process), std::move(lifeline), asio::steady_timer(context_)}));
    emit("fork", {{"id", id}, {"pid", pid}});
    // Boost.Process returns only once exec succeeded, so the worker program is running.
    emit("online", {{"id", id}, {"pid", pid}});
    watch(worker);
    if (control) {
        control->write_end.reset();  // the worker holds the only write end: its end means end-of-file here
        read_control(std::make_shared<ControlLines>(
            ControlLines{asio::readable_pipe(context_, control->read_end.release()), WorkerRef{id, pid}}));
    }
    return worker;
}

// One asynchronous wait per worker: each death is reaped as soon as it happens, whichever worker it is.
void Supervisor::watch(Worker& worker) {
    worker.process.async_wait([this, &worker](boost::system::error_code error, int) {
        if (error) return fail("waiting for worker " + std::to_string(worker.id) + ": " + error.message());
        // native_exit_code() is the raw wait status: it tells an exit code from a signal (exit_code() cannot).
        on_worker_exit(worker, worker.process.native_exit_code());
    });
}

// A worker's event lines, one at a time, until end-of-file; lines that are not events are skipped.
void Supervisor::read_control(std::shared_ptr<ControlLines> lines) {
    auto& pipe = lines->pipe;
    asio::async_read_until(pipe, asio::dynamic_buffer(lines->text), '\n',
                           [this, lines](boost::system::error_code error, std::size_t size) {
                               if (error) return;  // end-of-file: the worker has ended
                               const auto event = Event::parse(std::string_view(lines->text).substr(0, size));
                               lines->text.erase(0, size);
                               if (event && config_.on_message && !stopping_) config_.on_message(lines->worker, *event);
                               read_control(lines);
                           });
}

void Supervisor::on_worker_exit(Worker& worker, int raw_status) {
    const WorkerRef ended{worker.id, worker.pid};
    const Role role = worker.role;
    worker.running = false;
    worker.process.detach();  // reaped: its destructor must never signal that pid, which may be reused
    worker.kill_timer.cancel();
    const auto status = WaitStatus::from_raw(raw_status);
    emit("exit", {{"id", ended.id}, {"pid", ended.pid}, status.field()});
    // Forget the worker after this handler has returned: its wait operation still refers to it.
    asio::post(context_, [this, ended, role, status, serial = worker.serial] {
        std::erase_if(workers_, [&](const auto& worker) { return worker->serial == serial; });
        if (stopping_) return finish_if_all_ended();
        if (config_.on_exit) config_.on_exit(ended, status);
        if (role != Role::serving || stopping_) return;  // a successor or a retired worker is not replaced
        std::cout << ended.pid << " bit the dust" << std::endl;  // the seed's line; not an event line
        replace(ended);
    });
}

void Supervisor::replace(const WorkerRef& dead) {
    if (!restarts_.spend(RestartBudget::Clock::now())) {
        return fail("more than " + std::to_string(restarts_.max_restarts()) + " restarts within " +
                    std::to_string(restarts_.within().count()) + " s: a crash loop, giving up");
    }
    const auto delay = config_.restart_delay ? config_.restart_delay(dead) : std::chrono::milliseconds::zero();
    if (delay <= std::chrono::milliseconds::zero()) return start_replacement(dead.id);
    auto& timer = restart_timers_[dead.id];
    timer = std::make_unique<asio::steady_timer>(context_, delay);
    timer->async_wait([this, id = dead.id](boost::system::error_code error) {
        if (!error) start_replacement(id);
    });
}

void Supervisor::start_replacement(int id) {
    try {
        start_worker(id, Role::serving);
    } catch (const std::exception& error) {
        fail("cannot restart worker " + std::to_string(id) + ": " + error.what());
    }
}

pid_t Supervisor::start_successor(int id) { return start_worker(id, Role::successor).pid; }

void Supervisor::promote(pid_t successor) {
    Worker* next = find(successor);
    if (stopping_ || !next || next->role != Role::successor) return;
    for (auto& worker : workers_)
        if (worker->running && worker->role == Role::serving && worker->id == next->id) retire(worker->pid);
    next->role = Role::serving;
    if (const auto timer = restart_timers_.find(next->id); timer != restart_timers_.end()) timer->second->cancel();
}

void Supervisor::retire(pid_t pid) {
    Worker* worker = find(pid);
    if (!worker) return;
    worker->role = Role::retired;
    worker->process.request_exit();  // SIGTERM: a worker drains, then exits
    worker->kill_timer.expires_after(config_.grace);
    worker->kill_timer.async_wait([this, serial = worker->serial](boost::system::error_code error) {
        if (Worker* late = find_serial(serial); !error && late && late->running) ::kill(late->pid, SIGKILL);
    });
}

void Supervisor::kill(pid_t pid) {
    if (Worker* worker = find(pid)) ::kill(worker->pid, SIGKILL);
}

std::vector<WorkerRef> Supervisor::serving() const {
    std::vector<WorkerRef> found;
    for (const auto& worker : workers_)
        if (worker->running && worker->role == Role::serving) found.push_back(WorkerRef{worker->id, worker->pid});
    std::ranges::sort(found, {}, &WorkerRef::id);
    return found;
}

// A deliberate stop: no replacements; SIGTERM now, SIGKILL for whoever is left after the grace period.
void Supervisor::stop() {
    if (stopping_) return kill_remaining();  // asked twice: do not wait any longer
    stopping_ = true;
    if (config_.on_stop) config_.on_stop();
    stop_signals_.async_wait([this](boost::system::error_code error, int) {
        if (!error) stop();
    });
    for (auto& [id, timer] : restart_timers_) timer->cancel();
    for (auto& worker : workers_)
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
    for (auto& worker : workers_)
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

Supervisor::Worker* Supervisor::find(pid_t pid) {
    for (auto& worker : workers_)
        if (worker->running && worker->pid == pid) return worker.get();
    return nullptr;
}

Supervisor::Worker* Supervisor::find_serial(unsigned long serial) {
    for (auto& worker : workers_)
        if (worker->serial == serial) return worker.get();
    return nullptr;
}

}  // namespace clusterkit
