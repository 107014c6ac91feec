// Lesson 03: the worker. It "serves" until the primary goes away or, when asked to, crashes on purpose.
//
//     lesson03-worker [--crash-after-ms MS] [--crash-code C]      (started by lesson03, never by hand)
//
// Its stdin is a pipe from the primary, the lifeline: end-of-file on it means the primary is gone, and the
// worker exits instead of living on as an orphan (Node's workers do the same with their IPC channel).
#include <clusterkit/cli.hpp>
#include <clusterkit/errors.hpp>
#include <clusterkit/events.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/readable_pipe.hpp>
#include <boost/asio/steady_timer.hpp>

#include <array>
#include <cstdlib>
#include <unistd.h>

namespace {

namespace asio = boost::asio;

struct WorkerOptions {
    std::optional<std::chrono::milliseconds> crash_after;
    int crash_code = clusterkit::exit_status::failure;
};

WorkerOptions read_options(int argc, char* argv[]) {
    namespace po = clusterkit::program_options;
    po::options_description options("options");
    options.add_options()
        ("crash-after-ms", po::value<std::string>(), "crash after MS milliseconds")
        ("crash-code", po::value<std::string>(), "exit with this code when crashing (default 1)");
    const auto values = clusterkit::parse_command_line(
        argc, argv, "lesson03-worker [--crash-after-ms MS] [--crash-code C]", options);
    WorkerOptions worker;
    if (values.count("crash-after-ms"))
        worker.crash_after = std::chrono::milliseconds(clusterkit::number_option(values, "crash-after-ms", 0));
    if (values.count("crash-code")) worker.crash_code = clusterkit::number_option(values, "crash-code", 0, 255);
    return worker;
}

int worker_id() {
    const char* id = std::getenv("CLUSTERKIT_WORKER_ID");
    if (id == nullptr) throw clusterkit::UsageError("CLUSTERKIT_WORKER_ID is not set: lesson03 starts me");
    return std::atoi(id);
}

int serve(const WorkerOptions& options) {
    asio::io_context context;
    // TODO(lesson 03): end the worker when the primary is gone: watch the lifeline (stdin) until
    // end-of-file. (Until then, this guard keeps the event loop waiting forever.)
    auto wait_forever = asio::make_work_guard(context);

    int status = clusterkit::exit_status::ok;
    asio::steady_timer crash(context);
    if (options.crash_after) {
        // The seed's memory leak, compressed: after a while the worker dies of it.
        crash.expires_after(*options.crash_after);
        crash.async_wait([&](boost::system::error_code error) {
            if (error) return;
            status = options.crash_code;
            context.stop();
        });
    }
    context.run();
    return status;
}

}  // namespace

int main(int argc, char* argv[]) {
    return clusterkit::run_main("lesson03-worker", [&] {
        const auto options = read_options(argc, argv);
        clusterkit::emit("worker", {{"id", worker_id()}, {"pid", ::getpid()}});
        return serve(options);
    });
}
