// Lesson 07: the reload (lessons/07-zero-downtime-reload/README.md, "Ready, not online" and "One at a time").
// See reload.hpp.
#include "reload.hpp"

#include <clusterkit/errors.hpp>
#include <clusterkit/handover.hpp>

#include <csignal>

namespace lesson07 {
namespace asio = boost::asio;
namespace po = clusterkit::program_options;
using clusterkit::emit;

namespace {

// Each worker writes its event lines to the primary on this descriptor (clusterkit/primary_link.hpp).
constexpr int control_fd_in_worker = 4;

}  // namespace

void add_options(po::options_description& options) {
    options.add_options()("ready-timeout-ms", po::value<std::string>()->default_value("10000"),
                          "on a reload, how long a new worker may take to say it is ready");
}

ReloadOptions read_options(const po::variables_map& values) {
    return {.ready_timeout = std::chrono::milliseconds(clusterkit::number_option(values, "ready-timeout-ms", 1))};
}

Reloader::Reloader(asio::io_context& context, clusterkit::HandoverConfig config, ReloadOptions options)
    : options_(options),
      program_(config.supervisor.program),
      supervisor_(context, with_hooks(std::move(config))),
      hangups_(context, SIGHUP),
      ready_timer_(context) {}

// Our hooks first, then those the configuration already had.
clusterkit::HandoverConfig Reloader::with_hooks(clusterkit::HandoverConfig config) {
    config.control_fd = control_fd_in_worker;
    config.on_message = [this, next = std::move(config.on_message)](const auto& worker, const auto& event) {
        on_message(worker, event);
        if (next) next(worker, event);
    };
    config.supervisor.on_exit = [this, next = std::move(config.supervisor.on_exit)](const auto& worker,
                                                                                    const auto& status) {
        on_exit(worker, status);
        if (next) next(worker, status);
    };
    config.supervisor.on_stop = [this, next = std::move(config.supervisor.on_stop)] {
        on_stop();
        if (next) next();
    };
    return config;
}

void Reloader::start() {
    supervisor_.start();
    wait_for_hangup();
}

void Reloader::wait_for_hangup() {
    hangups_.async_wait([this](boost::system::error_code error, int) {
        if (error) return;
        on_hangup();
        wait_for_hangup();
    });
}

//tag::hangup[]
void Reloader::on_hangup() {
    if (supervisor_.stopping()) return;
    if (!busy()) return begin_reload();
    queued_ = true;  // however many SIGHUPs come now, one reload after this one does what they all ask
    emit("reload-queued", {{"generation", generation_ + 1}});
}
//end::hangup[]

void Reloader::begin_reload() {
    reloading_ = true;
    queued_ = false;
    emit("reload-begin", {{"generation", ++generation_}});
    reload_from(1);
}

// One worker at a time, in id order: the next one's successor starts once this one has been replaced.
void Reloader::reload_from(int id) {
    if (id > supervisor_.config().workers) return end_reload("reload-end");
    replace(id, [this, id](bool replaced) {
        if (replaced) return reload_from(id + 1);
        end_reload("reload-abort");
    });
}

void Reloader::end_reload(std::string_view how) {
    reloading_ = false;
    emit(how, {{"generation", generation_}});
}

//tag::replace[]
void Reloader::replace(int id, Done done) {
    successor_ = Successor{id, 0, std::move(done)};
    try {
        successor_->pid = supervisor_.start_successor(id);
    } catch (const std::exception& error) {
        return fail("cannot start a new worker " + std::to_string(id) + ": " + error.what());
    }
    ready_timer_.expires_after(options_.ready_timeout);
    ready_timer_.async_wait([this, pid = successor_->pid](boost::system::error_code error) {
        if (error || !successor_ || successor_->pid != pid) return;
        fail("new worker " + std::to_string(successor_->id) + " (pid " + std::to_string(pid) + ") was not ready within " +
             std::to_string(options_.ready_timeout.count()) + " ms");
    });
}
//end::replace[]

//tag::ready[]
void Reloader::on_message(const clusterkit::WorkerRef& worker, const clusterkit::Event& event) {
    if (event.name != "ready") return;
    emit("ready", {{"id", worker.id}, {"pid", worker.pid}});
    if (!successor_ || successor_->pid != worker.pid) return;  // a first worker, or one started after a death
    ready_timer_.cancel();
    supervisor_.promote(worker.pid);  // only now does the old worker drain: never fewer than N accept
    finish(true);
}
//end::ready[]

void Reloader::on_exit(const clusterkit::WorkerRef& worker, const clusterkit::WaitStatus& status) {
    if (successor_ && successor_->pid == worker.pid)
        fail("new worker " + std::to_string(worker.id) + " (pid " + std::to_string(worker.pid) + ") " + status.describe() +
             " before it was ready");
}

// The successor failed: it goes (if it runs), the old worker serves on.
void Reloader::fail(const std::string& why) {
    clusterkit::report_error(program_, why + "; the old worker " + std::to_string(successor_->id) + " serves on");
    ready_timer_.cancel();
    if (successor_->pid > 0) supervisor_.retire(successor_->pid);
    finish(false);
}

void Reloader::finish(bool replaced) {
    const auto done = std::move(successor_->done);
    successor_.reset();
    done(replaced);
    if (queued_ && !busy() && !supervisor_.stopping()) begin_reload();
}

// A stop: whatever was under way ends with the workers; nothing more starts.
void Reloader::on_stop() {
    ready_timer_.cancel();
    hangups_.cancel();
    successor_.reset();
    reloading_ = queued_ = false;
}

}  // namespace lesson07
