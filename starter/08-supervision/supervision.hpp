// Lesson 08: supervision beyond restarts. Lesson 07's server, whose primary also watches each worker and replaces
// it *before* it fails (lessons/08-supervision/README.md):
//
//   - memory: every worker runs under a hard ceiling (--memory-limit-mb, RLIMIT_AS); the primary samples each
//     worker's resident set and recycles one over --max-rss-mb (PM2's max_memory_restart);
//   - requests: each worker gets a budget of N to N+J requests and asks to be recycled when it has answered them
//     (gunicorn's max_requests and max_requests_jitter);
//   - hangs: each worker beats every --heartbeat-ms; one silent for --hang-timeout-ms is killed and replaced
//     (gunicorn's timeout);
//   - crash loops: a worker that dies before it is ready is restarted after a delay that doubles from
//     --backoff-ms up to --backoff-max-ms, and resets once a worker of its id is ready (PM2's
//     exp_backoff_restart_delay); lesson 03's restart intensity still ends a crash loop.
//
// A recycle is lesson 07's replacement: the successor is ready before the old worker drains, so no request is lost.
//
//     lesson08::Supervision supervision(context, options);
//     supervision.configure(config);                    // before the supervisor is made from `config`
//     lesson07::Reloader server(context, std::move(config), reload_options);
//     supervision.watch(server);
#pragma once

#include "reload.hpp"

#include <clusterkit/cli.hpp>
#include <clusterkit/events.hpp>
#include <clusterkit/handover.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <map>
#include <random>
#include <set>
#include <string_view>

namespace lesson08 {

using Clock = std::chrono::steady_clock;

struct Options {
    int memory_limit_mb = 0;  // 0: no ceiling
    int max_rss_mb = 0;       // 0: never recycled for its memory
    int max_requests = 0;     // 0: never recycled for its requests
    int jitter = 0;
    std::chrono::milliseconds heartbeat{1000};
    std::chrono::milliseconds hang_timeout{10'000};  // 0: never killed for silence
    std::chrono::milliseconds backoff{100};
    std::chrono::milliseconds backoff_max{10'000};
    int max_restarts = 5;
    std::chrono::seconds within{60};
};

// This lesson's options, added beside lessons 06 and 07's; and their values (UsageError for a bad one).
void add_options(clusterkit::program_options::options_description& options);
Options read_options(const clusterkit::program_options::variables_map& values);

class Supervision {
public:
    Supervision(boost::asio::io_context& context, Options options);

    // Adds this lesson's policies to the configuration the supervisor is made from: heartbeats and request
    // budgets for the workers, the memory ceiling, the restart delay, the restart intensity; and hears the
    // workers' messages.
    void configure(clusterkit::HandoverConfig& config);
    // Looks at every serving worker every heartbeat interval, and recycles through `server` (lesson 07).
    void watch(lesson07::Reloader& server);

private:
    struct Health {
        Clock::time_point last_beat;  // or when it said ready
        long asked_to_retire = 0;     // the `requests` of its `retire` message; 0: it has not asked
    };

    void on_message(const clusterkit::WorkerRef& worker, const clusterkit::Event& event);
    clusterkit::Environment environment_for(int id);
    std::chrono::milliseconds restart_delay(const clusterkit::WorkerRef& dead);
    void check_later();
    void check();
    void check_heartbeats(Clock::time_point now);
    bool check_memory();
    bool check_requests();
    void recycle(const clusterkit::WorkerRef& worker, std::string_view reason, const clusterkit::Field& measure);

    Options options_;
    boost::asio::steady_timer check_timer_;
    std::mt19937 random_{std::random_device{}()};
    std::map<pid_t, Health> health_;                   // the workers that said `ready` and have not ended
    std::map<int, std::chrono::milliseconds> delays_;  // by id: the delay of the next restart (none: at once)
    std::set<int> started_well_;                       // ids with a worker that said `ready` since their last restart
    lesson07::Reloader* server_ = nullptr;
    bool stopped_ = false;
};

}  // namespace lesson08
