// bench-messages: how fast lesson 05's channel carries messages between a primary and one worker, to set
// beside Node's cluster IPC (node-ipc.js does the same with worker.send / process.send).
//
//     bench-messages [--round-trips N] [--big-messages M] [--worker-cpu C]    (bench/messages/run runs it)
//
// Two measurements, each one message in flight at a time, the worker echoing every message back:
//   - N round trips of a small message {"type":"ping","n":i}: round trips per second;
//   - M round trips of a 1 MiB payload: MiB/s of payload carried, both directions counted (2 MiB a trip).
// --worker-cpu C: the worker runs on CPU C only (the primary on whatever `taskset` gave it).
// --worker-exec P: start the worker through program P, given the worker's command line (bench/messages/run
// counts the worker's instructions so, with callgrind; the primary cannot run under valgrind 3.19, which does
// not know pidfd_open, the system call Boost.Process waits on its children with).
// bench/messages/run builds it Release (-O2, the kit's library and Boost.JSON too), and glibc keeps big blocks.
// Prints one event line: `bench impl=cpp round_trips_per_s=R mib_per_s=B`.
// The worker is this same program run again (argv[0]: /proc/self/exe would be valgrind under callgrind) with
// --worker: stdin from the primary, and the descriptor in CLUSTERKIT_CHANNEL_FD to it, exactly as lesson05
// starts lesson05-worker.
#include "channel.hpp"

#include <clusterkit/cli.hpp>
#include <clusterkit/errors.hpp>
#include <clusterkit/events.hpp>
#include <clusterkit/fd.hpp>
#include <clusterkit/process.hpp>
#include <clusterkit/supervisor.hpp>
#include <clusterkit/wait_status.hpp>

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <malloc.h>
#include <sched.h>
#include <string>
#include <unistd.h>

namespace {

namespace asio = boost::asio;
namespace bp = boost::process::v2;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;

constexpr std::string_view program = "bench-messages";
constexpr int channel_fd = 3;

// The worker: every message comes back as it is, until "shutdown".
int echo_worker() {
    const char* fd_text = std::getenv("CLUSTERKIT_CHANNEL_FD");
    const auto fd = clusterkit::parse_whole_number(fd_text ? fd_text : "");
    if (!fd) throw clusterkit::UsageError("CLUSTERKIT_CHANNEL_FD is not set: --worker is for bench-messages itself");
    asio::io_context context;
    auto channel = lesson05::Channel::create(asio::readable_pipe(context, ::dup(STDIN_FILENO)),
                                             asio::writable_pipe(context, *fd));
    int status = clusterkit::exit_status::failure;
    channel->start({
        .on_message = [&](const json::object& message) {
            if (message.at("type") != "shutdown") return channel->send(message);
            channel->when_sent([&] {
                status = clusterkit::exit_status::ok;
                channel->close();
                context.stop();
            });
        },
        .on_malformed = [&](const std::string& why) { clusterkit::report_error(program, why); context.stop(); },
        .on_closed = [&](boost::system::error_code) { context.stop(); },
    });
    context.run();
    return status;
}

// The primary: sends `count` messages, one at a time, each after the previous one's echo.
class Primary {
public:
    explicit Primary(asio::io_context& context) : context_(context) {}

    void start(const std::filesystem::path& self, std::optional<int> worker_cpu,
               std::optional<std::filesystem::path> exec) {
        asio::writable_pipe to_worker(context_);
        auto from_worker = clusterkit::Pipe::open();
        std::vector<std::string> args{"--worker"};
        if (worker_cpu) args.insert(args.end(), {"--worker-cpu", std::to_string(*worker_cpu)});
        if (exec) args.insert(args.begin(), self.string());
        process_.emplace(context_, exec.value_or(self), args,
                         bp::process_stdio{to_worker, {}, {}}, clusterkit::BindFd{channel_fd, from_worker.write_end.get()},
                         clusterkit::EnvironmentWith({{"CLUSTERKIT_CHANNEL_FD", std::to_string(channel_fd)}}),
                         clusterkit::DieWithParent{});
        from_worker.write_end.reset();
        channel_ = lesson05::Channel::create(asio::readable_pipe(context_, from_worker.read_end.release()),
                                             std::move(to_worker));
        channel_->start({
            .on_message = [this](const json::object& message) { on_echo(message); },
            .on_malformed = [](const std::string& why) { throw std::runtime_error("the worker sent: " + why); },
            .on_closed = [](boost::system::error_code) { throw std::runtime_error("the worker is gone"); },  // never after stop(): the loop no longer runs
        });
    }

    // Runs `count` round trips of `message`, its "n" field set to 0, 1, ..., and returns the seconds they took.
    // One object, sent again and again: the channel is what is measured, not building a 1 MiB string (Node's
    // bench builds a new object each time, but its payload string is shared, not copied).
    double measure(int count, json::object message) {
        message_ = std::move(message);
        count_ = count;
        sent_ = 0;
        const auto begin = Clock::now();
        send_next();
        while (!finished_) context_.run_one();  // until the last echo
        finished_ = false;
        return std::chrono::duration<double>(Clock::now() - begin).count();
    }

    int stop() {
        bool sent = false;
        channel_->send(json::object{{"type", "shutdown"}});
        channel_->when_sent([&] { sent = true; });
        while (!sent) context_.run_one();
        process_->wait();
        const auto status = clusterkit::WaitStatus::from_raw(process_->native_exit_code());
        if (status.killed_by_signal || status.code != 0) throw std::runtime_error("the worker " + status.describe());
        return clusterkit::exit_status::ok;
    }

private:
    void send_next() {
        message_["n"] = sent_++;
        channel_->send(message_);
    }

    void on_echo(const json::object& message) {
        if (message.at("type") == "big") checked_bytes_ += message.at("payload").as_string().size();
        if (sent_ < count_) return send_next();
        finished_ = true;
    }

    asio::io_context& context_;
    std::optional<bp::process> process_;
    std::shared_ptr<lesson05::Channel> channel_;
    json::object message_;
    int count_ = 0;
    int sent_ = 0;
    bool finished_ = false;
    std::size_t checked_bytes_ = 0;
};

void pin_to(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (::sched_setaffinity(0, sizeof set, &set) != 0) clusterkit::throw_system_error("sched_setaffinity");
}

struct Options {
    int round_trips;
    int big_messages;
    std::optional<int> worker_cpu;
    std::optional<std::filesystem::path> worker_exec;
};

int run(const std::filesystem::path& self, const Options& options) {
    const int round_trips = options.round_trips, big_messages = options.big_messages;
    std::signal(SIGPIPE, SIG_IGN);
    asio::io_context context;
    Primary primary(context);
    primary.start(self, options.worker_cpu, options.worker_exec);
    const json::object ping{{"type", "ping"}, {"n", 0}};
    primary.measure(200, ping);  // warm up
    const double small_s = primary.measure(round_trips, ping);
    const double big_s = primary.measure(big_messages, {{"type", "big"}, {"n", 0}, {"payload", json::string(1024 * 1024, 'x')}});
    primary.stop();
    const auto rate = static_cast<long long>(round_trips / small_s);
    const auto mib_per_s = static_cast<long long>(2.0 * big_messages / big_s);
    clusterkit::emit("bench", {{"impl", "cpp"}, {"round_trips_per_s", rate}, {"mib_per_s", mib_per_s}});
    return clusterkit::exit_status::ok;
}

}  // namespace

int main(int argc, char* argv[]) {
    return clusterkit::run_main(program, [&] {
        namespace po = clusterkit::program_options;
        po::options_description options("options");
        options.add_options()
            ("round-trips", po::value<std::string>()->default_value("20000"), "small-message round trips")
            ("big-messages", po::value<std::string>()->default_value("200"), "1 MiB round trips")
            ("worker-cpu", po::value<std::string>(), "run the worker on this CPU only")
            ("worker-exec", po::value<std::string>(), "start the worker through this program (e.g. a callgrind wrapper)")
            ("worker", "be the echoing worker (bench-messages starts itself so)");
        const auto values = clusterkit::parse_command_line(
            argc, argv, "bench-messages [--round-trips N] [--big-messages M] [--worker-cpu C] [--worker-exec P]", options);
        // glibc serves blocks of 128 KiB and more with mmap() and gives them back at free(): every 1 MiB message
        // would then page-fault its memory in anew (a third of the time, measured with perf). Keep them.
        ::mallopt(M_MMAP_THRESHOLD, 64 * 1024 * 1024);
        ::mallopt(M_TRIM_THRESHOLD, 256 * 1024 * 1024);
        std::optional<int> worker_cpu;
        if (values.count("worker-cpu")) worker_cpu = clusterkit::number_option(values, "worker-cpu", 0);
        if (values.count("worker")) {
            if (worker_cpu) pin_to(*worker_cpu);
            return echo_worker();
        }
        std::optional<std::filesystem::path> worker_exec;
        if (values.count("worker-exec")) worker_exec = values["worker-exec"].as<std::string>();
        const Options run_options{clusterkit::positive_count(values, "round-trips"),
                                  clusterkit::positive_count(values, "big-messages"), worker_cpu, worker_exec};
        return run(std::filesystem::absolute(argv[0]), run_options);
    });
}
