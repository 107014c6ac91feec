// Lesson 07: a supervisor that reloads without dropping a request (lessons/07-zero-downtime-reload/README.md).
//
// On SIGHUP every worker is replaced, one at a time, and at no moment do fewer than N workers accept: a
// *successor* starts beside the worker it replaces, and only once it says `ready` (it accepts connections) is
// the old worker drained (lesson 06's drain: stop accepting, finish what is in flight, exit 0). A successor that
// is not ready within the ready timeout, or dies before, aborts the reload: one error line, and the old workers
// serve on. A SIGHUP during a reload is queued, one at most: two reloads never run at once.
//
//     lesson07::Reloader server(context, {.supervisor = lesson06::supervisor_config(program, options, listener)},
//                               {.ready_timeout = 10s});
//     server.start();      // the supervisor's start(), and SIGHUP
//     context.run();
#pragma once

#include <clusterkit/cli.hpp>
#include <clusterkit/events.hpp>
#include <clusterkit/handover.hpp>
#include <clusterkit/wait_status.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace lesson07 {

struct ReloadOptions {
    std::chrono::milliseconds ready_timeout{10'000};  // for a successor to say `ready`
};

// --ready-timeout-ms, added beside lesson 06's options; and its value.
void add_options(clusterkit::program_options::options_description& options);
ReloadOptions read_options(const clusterkit::program_options::variables_map& values);

class Reloader {
public:
    using Done = std::function<void(bool replaced)>;

    // Owns the supervisor (lib's Handover around lesson 03's) made from `config`, to which it adds a control pipe
    // per worker and its own hooks
    // (before those already in `config`, which still run).
    Reloader(boost::asio::io_context& context, clusterkit::HandoverConfig config, ReloadOptions options);

    void start();  // the supervisor's start(), and SIGHUP
    int exit_status() const { return supervisor_.exit_status(); }
    clusterkit::Handover& supervisor() { return supervisor_; }

    // Replaces worker `id` without a gap: `done(true)` once its successor serves and the old worker drains;
    // `done(false)`, after one error line, if the successor failed (the old worker serves on). One at a time.
    void replace(int id, Done done);
    // A reload or a replacement is under way.
    bool busy() const { return reloading_ || successor_.has_value(); }

private:
    struct Successor {
        int id;
        pid_t pid;  // 0: it could not even be started
        Done done;
    };

    clusterkit::HandoverConfig with_hooks(clusterkit::HandoverConfig config);
    void wait_for_hangup();
    void on_hangup();
    void begin_reload();
    void reload_from(int id);
    void end_reload(std::string_view how);
    void on_message(const clusterkit::WorkerRef& worker, const clusterkit::Event& event);
    void on_exit(const clusterkit::WorkerRef& worker, const clusterkit::WaitStatus& status);
    void fail(const std::string& why);
    void finish(bool replaced);
    void on_stop();

    ReloadOptions options_;
    std::string program_;
    clusterkit::Handover supervisor_;
    boost::asio::signal_set hangups_;
    boost::asio::steady_timer ready_timer_;
    std::optional<Successor> successor_;  // the replacement under way
    int generation_ = 0;                  // of the reload under way, or of the last one
    bool reloading_ = false;
    bool queued_ = false;                 // a SIGHUP came during a reload: one more reload after it
};

}  // namespace lesson07
