// Successors, retirement and control pipes around lesson 03's supervisor. See handover.hpp; why:
// lessons/07-zero-downtime-reload/README.md.
#include "clusterkit/handover.hpp"

#include <boost/asio/read_until.hpp>
#include <boost/asio/readable_pipe.hpp>

#include <algorithm>
#include <csignal>
#include <iterator>
#include <string>

namespace clusterkit {
namespace asio = boost::asio;

// The read end of one worker's control pipe. Its reads hold it (shared_ptr): the worker's exit may be handled
// before its last line and the end-of-file are read.
struct Handover::ControlLines {
    asio::readable_pipe pipe;
    WorkerRef worker;
    std::string text{};  // read, not yet a whole line
};

Handover::Handover(asio::io_context& context, HandoverConfig config)
    : context_(context), hooks_(std::move(config)), supervisor_(context, with_hooks(std::move(hooks_.supervisor))) {}

// The supervisor's hooks: ours, around those its configuration already had.
SupervisorConfig Handover::with_hooks(SupervisorConfig config) {
    config.before_start = [this](int id, Environment& environment, std::vector<BindFd>& fds) {
        before_start(id, environment, fds);
    };
    config.after_start = [this](const WorkerRef& worker) { after_start(worker); };
    config.on_exit = [this, next = std::move(config.on_exit)](const WorkerRef& worker, const WaitStatus& status) {
        on_exit(worker);
        if (next) next(worker, status);
    };
    config.take_over = [this](int id) { return take_over(id); };
    config.delay_restart = [this](int id) { return delay_restart(id); };
    config.others_running = [this] { return !successors_.empty(); };
    config.on_stop = [this, next = std::move(config.on_stop)] {
        on_stop();
        if (next) next();
    };
    return config;
}

void Handover::before_start(int id, Environment& environment, std::vector<BindFd>& fds) {
    if (hooks_.environment_for) std::ranges::copy(hooks_.environment_for(id), std::back_inserter(environment));
    if (hooks_.control_fd <= 0) return;
    control_ = std::make_unique<Pipe>(Pipe::open());
    fds.push_back(BindFd{hooks_.control_fd, control_->write_end.get()});
    environment.emplace_back("CLUSTERKIT_CONTROL_FD", std::to_string(hooks_.control_fd));
}

void Handover::after_start(const WorkerRef& worker) {
    if (!control_) return;
    control_->write_end.reset();  // the worker holds the only write end: its end means end-of-file here
    read_control(std::make_shared<ControlLines>(
        ControlLines{asio::readable_pipe(context_, control_->read_end.release()), worker}));
    control_.reset();
}

// A worker's event lines, one at a time, until end-of-file; lines that are not events are skipped. A
// successor's end-of-file means it has ended: nobody else waits for it.
void Handover::read_control(std::shared_ptr<ControlLines> lines) {
    auto& pipe = lines->pipe;
    asio::async_read_until(pipe, asio::dynamic_buffer(lines->text), '\n',
                           [this, lines](boost::system::error_code error, std::size_t size) {
                               if (error) return reap_successor(lines->worker.pid);
                               const auto event = Event::parse(std::string_view(lines->text).substr(0, size));
                               lines->text.erase(0, size);
                               if (event && hooks_.on_message && !stopping()) hooks_.on_message(lines->worker, *event);
                               read_control(lines);
                           });
}

pid_t Handover::start_successor(int id) {
    auto started = supervisor_.launch(id);
    const pid_t pid = started.pid;
    successors_.emplace(pid, Successor{std::move(started)});
    return pid;
}

void Handover::promote(pid_t successor) {
    const auto next = successors_.find(successor);
    if (stopping() || next == successors_.end() || next->second.promoted) return;
    next->second.promoted = true;
    const int id = next->second.started.id;
    // An earlier successor of the id that the supervisor has not adopted yet (its old worker is still ending)
    // is replaced too. Left promoted, take_over() could adopt it and then this one over it, dropping its wait.
    std::vector<pid_t> earlier;
    for (const auto& [pid, other] : successors_)
        if (pid != successor && other.promoted && other.started.id == id) earlier.push_back(pid);
    for (const pid_t pid : earlier) retire(pid);
    bool served = false;
    for (const auto& worker : supervisor_.workers()) {
        if (worker.id != id) continue;
        retire(worker.pid);
        served = true;
    }
    if (!served) take_over(id);  // the id's worker has died already: no need to wait
}

// The supervisor is about to replace worker `id`: a promoted successor takes the id instead, and an id that
// is already served (a successor took it over early) needs nothing.
bool Handover::take_over(int id) {
    for (auto& [pid, successor] : successors_) {
        if (!successor.promoted || successor.started.id != id) continue;
        if (const auto timer = restart_timers_.find(id); timer != restart_timers_.end()) timer->second->cancel();
        supervisor_.adopt(std::move(successor.started));
        successors_.erase(pid);
        return true;
    }
    return std::ranges::any_of(supervisor_.workers(), [id](const WorkerRef& worker) { return worker.id == id; });
}

bool Handover::delay_restart(int id) {
    const auto delay = hooks_.restart_delay ? hooks_.restart_delay(WorkerRef{id, 0}) : std::chrono::milliseconds::zero();
    if (delay <= std::chrono::milliseconds::zero()) return false;
    auto& timer = restart_timers_[id];
    timer = std::make_unique<asio::steady_timer>(context_, delay);
    timer->async_wait([this, id](boost::system::error_code error) {
        if (!error && !stopping() && !take_over(id)) supervisor_.start_replacement(id);
    });
    return true;
}

void Handover::retire(pid_t pid) {
    if (const auto successor = successors_.find(pid); successor != successors_.end()) {
        successor->second.promoted = false;
        successor->second.started.process.request_exit();  // SIGTERM: a worker drains, then exits
    } else if (supervised(pid)) {
        retiring_.insert(pid);
        ::kill(pid, SIGTERM);
    } else {
        return;
    }
    kill_after_grace(pid);
}

void Handover::kill_after_grace(pid_t pid) {
    auto& timer = kill_timers_[pid];
    timer = std::make_unique<asio::steady_timer>(context_, config().grace);
    timer->async_wait([this, pid](boost::system::error_code error) {
        if (!error) kill(pid);
    });
}

// Only a process not yet reaped: a reaped worker's pid may already belong to another process.
void Handover::kill(pid_t pid) {
    if (successors_.contains(pid) || supervised(pid)) ::kill(pid, SIGKILL);
}

std::vector<WorkerRef> Handover::serving() const {
    std::vector<WorkerRef> found;
    for (const auto& worker : supervisor_.workers())
        if (!retiring_.contains(worker.pid)) found.push_back(worker);
    for (const auto& [pid, successor] : successors_)
        if (successor.promoted) found.push_back(WorkerRef{successor.started.id, pid});
    std::ranges::sort(found, {}, &WorkerRef::id);
    return found;
}

void Handover::on_exit(const WorkerRef& worker) {
    retiring_.erase(worker.pid);
    kill_timers_.erase(worker.pid);
}

// A successor's control pipe reached end-of-file: it has ended (or is ending: SIGKILL makes sure, and changes
// nothing for a process already exiting). Reaped here, as the supervisor would, and not replaced.
void Handover::reap_successor(pid_t pid) {
    auto node = successors_.extract(pid);
    if (node.empty()) return;
    auto& started = node.mapped().started;
    ::kill(pid, SIGKILL);
    boost::system::error_code error;
    started.process.wait(error);
    const auto status = WaitStatus::from_raw(started.process.native_exit_code());
    started.process.detach();
    emit("exit", {{"id", started.id}, {"pid", pid}, status.field()});
    if (const auto& next = supervisor_.config().on_exit) next(WorkerRef{started.id, pid}, status);
    if (stopping()) supervisor_.finish_if_all_ended();
}

// A stop: no delayed replacement starts, and the successors drain with the workers.
void Handover::on_stop() {
    for (auto& [id, timer] : restart_timers_) timer->cancel();
    for (auto& [pid, successor] : successors_) {
        successor.started.process.request_exit();
        kill_after_grace(pid);
    }
}

bool Handover::supervised(pid_t pid) const {
    return std::ranges::any_of(supervisor_.workers(), [pid](const WorkerRef& worker) { return worker.pid == pid; });
}

}  // namespace clusterkit
