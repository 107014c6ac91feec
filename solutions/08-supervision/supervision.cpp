// Lesson 08: the primary's watch over its workers (lessons/08-supervision/README.md). See supervision.hpp.
#include "supervision.hpp"

#include "memory.hpp"

#include <clusterkit/errors.hpp>

#include <algorithm>
#include <string>

namespace lesson08 {
namespace po = clusterkit::program_options;
using clusterkit::emit;
using std::chrono::milliseconds;

namespace {

milliseconds ms_option(const po::variables_map& values, std::string_view name, int min) {
    return milliseconds(clusterkit::number_option(values, name, min));
}

}  // namespace

void add_options(po::options_description& options) {
    options.add_options()
        ("memory-limit-mb", po::value<std::string>()->default_value("0"), "each worker's address space at most, in MiB (0: none)")
        ("max-rss-mb", po::value<std::string>()->default_value("0"), "recycle a worker whose resident set is larger, in MiB (0: never)")
        ("max-requests", po::value<std::string>()->default_value("0"), "recycle a worker after this many requests (0: never)")
        ("jitter", po::value<std::string>()->default_value("0"), "... plus a random 0 to this many more, drawn per worker")
        ("heartbeat-ms", po::value<std::string>()->default_value("1000"), "each worker beats this often; the primary looks as often")
        ("hang-timeout-ms", po::value<std::string>()->default_value("10000"), "kill a worker silent for longer (0: never)")
        ("backoff-ms", po::value<std::string>()->default_value("100"), "restart delay after a second failed start, doubled after each")
        ("backoff-max-ms", po::value<std::string>()->default_value("10000"), "the longest restart delay")
        ("max-restarts", po::value<std::string>()->default_value("5"), "more restarts than this within --within s: give up")
        ("within", po::value<std::string>()->default_value("60"), "the window of --max-restarts, in seconds");
}

Options read_options(const po::variables_map& values) {
    Options chosen;
    chosen.memory_limit_mb = clusterkit::number_option(values, "memory-limit-mb", 0);
    chosen.max_rss_mb = clusterkit::number_option(values, "max-rss-mb", 0);
    chosen.max_requests = clusterkit::number_option(values, "max-requests", 0);
    chosen.jitter = clusterkit::number_option(values, "jitter", 0);
    chosen.heartbeat = ms_option(values, "heartbeat-ms", 1);
    chosen.hang_timeout = ms_option(values, "hang-timeout-ms", 0);
    chosen.backoff = ms_option(values, "backoff-ms", 1);
    chosen.backoff_max = ms_option(values, "backoff-max-ms", 1);
    chosen.max_restarts = clusterkit::number_option(values, "max-restarts", 0);
    chosen.within = std::chrono::seconds(clusterkit::number_option(values, "within", 1));
    if (chosen.jitter > 0 && chosen.max_requests == 0) throw clusterkit::UsageError("--jitter needs --max-requests");
    if (chosen.hang_timeout > milliseconds::zero() && chosen.hang_timeout <= chosen.heartbeat)
        throw clusterkit::UsageError("--hang-timeout-ms must be longer than --heartbeat-ms, or 0");
    if (chosen.backoff_max < chosen.backoff) throw clusterkit::UsageError("--backoff-max-ms must be at least --backoff-ms");
    return chosen;
}

Supervision::Supervision(boost::asio::io_context& context, Options options)
    : options_(options), check_timer_(context) {}

void Supervision::configure(clusterkit::HandoverConfig& config) {
    config.supervisor.max_restarts = options_.max_restarts;
    config.supervisor.within = options_.within;
    config.supervisor.worker_environment.emplace_back("CLUSTERKIT_HEARTBEAT_MS", std::to_string(options_.heartbeat.count()));
    if (options_.memory_limit_mb > 0) {
        const auto bytes = static_cast<std::size_t>(options_.memory_limit_mb) * 1024 * 1024;
        config.supervisor.in_child = [bytes] { return limit_memory(bytes); };
    }
    config.environment_for = [this](int id) { return environment_for(id); };
    config.restart_delay = [this](const clusterkit::WorkerRef& dead) { return restart_delay(dead); };
    config.on_message = [this](const auto& worker, const auto& event) { on_message(worker, event); };
    config.supervisor.on_exit = [this](const auto& worker, const auto&) { health_.erase(worker.pid); };
    config.supervisor.on_stop = [this, next = std::move(config.supervisor.on_stop)] {
        stopped_ = true;
        check_timer_.cancel();
        if (next) next();
    };
}

void Supervision::watch(lesson07::Reloader& server) {
    server_ = &server;
    check_later();
}

void Supervision::on_message(const clusterkit::WorkerRef& worker, const clusterkit::Event& event) {
    const auto health = health_.find(worker.pid);
    if (event.name == "ready") {
        health_[worker.pid] = Health{Clock::now(), 0};
        started_well_.insert(worker.id);
    } else if (health == health_.end()) {
        return;
    } else if (event.name == "beat") {
        health->second.last_beat = Clock::now();
    } else if (event.name == "retire" && event.has("requests")) {
        health->second.asked_to_retire = std::max(1LL, event.number("requests"));
    }
}

//tag::budget[]
clusterkit::Environment Supervision::environment_for(int) {
    if (options_.max_requests == 0) return {};
    // gunicorn's max_requests_jitter: a budget of its own for each worker, so workers started together do not
    // all retire together.
    std::uniform_int_distribution<int> jitter(0, options_.jitter);
    return {{"CLUSTERKIT_MAX_REQUESTS", std::to_string(options_.max_requests + jitter(random_))}};
}
//end::budget[]

//tag::backoff[]
milliseconds Supervision::restart_delay(const clusterkit::WorkerRef& dead) {
    auto& next = delays_[dead.id];                     // zero (at first): at once
    if (started_well_.erase(dead.id)) next = milliseconds::zero();  // a worker of this id became ready: start over
    const auto delay = next;
    next = delay == milliseconds::zero() ? options_.backoff : std::min(2 * delay, options_.backoff_max);
    if (delay > milliseconds::zero()) emit("backoff", {{"id", dead.id}, {"ms", delay.count()}});
    return delay;
}
//end::backoff[]

void Supervision::check_later() {
    if (stopped_) return;
    check_timer_.expires_after(options_.heartbeat);
    check_timer_.async_wait([this](boost::system::error_code error) {
        if (error) return;
        check();
        check_later();
    });
}

// Hung workers first, whatever else is under way; then at most one recycle at a time, as lesson 07 replaces.
void Supervision::check() {
    check_heartbeats(Clock::now());
    if (!server_->busy()) check_memory() || check_requests();
}

//tag::heartbeats[]
void Supervision::check_heartbeats(Clock::time_point now) {
    if (options_.hang_timeout == milliseconds::zero()) return;
    for (const auto& worker : server_->supervisor().serving()) {
        const auto health = health_.find(worker.pid);
        if (health == health_.end()) continue;  // not ready yet
        const auto silent = std::chrono::duration_cast<milliseconds>(now - health->second.last_beat);
        if (silent <= options_.hang_timeout) continue;
        // Its event loop is stuck: it cannot drain. Kill it; the supervisor replaces it as after any death.
        emit("recycle", {{"id", worker.id}, {"pid", worker.pid}, {"reason", "timeout"}, {"silent-ms", silent.count()}});
        health_.erase(health);
        server_->supervisor().kill(worker.pid);
    }
}
//end::heartbeats[]

//tag::memory[]
bool Supervision::check_memory() {
    if (options_.max_rss_mb == 0) return false;
    for (const auto& worker : server_->supervisor().serving()) {
        if (!health_.contains(worker.pid)) continue;
        const auto kb = resident_kb(worker.pid);
        if (!kb || *kb <= options_.max_rss_mb * 1024L) continue;
        recycle(worker, "rss", {"rss-kb", *kb});
        return true;
    }
    return false;
}
//end::memory[]

bool Supervision::check_requests() {
    for (const auto& worker : server_->supervisor().serving()) {
        const auto health = health_.find(worker.pid);
        if (health == health_.end() || health->second.asked_to_retire == 0) continue;
        recycle(worker, "requests", {"requests", health->second.asked_to_retire});
        return true;
    }
    return false;
}

// Lesson 07's replacement of one worker: its successor is ready before it drains.
void Supervision::recycle(const clusterkit::WorkerRef& worker, std::string_view reason, const clusterkit::Field& measure) {
    emit("recycle", {{"id", worker.id}, {"pid", worker.pid}, {"reason", reason}, measure});
    server_->replace(worker.id, [](bool) {});
}

}  // namespace lesson08
