// Lesson 05: the worker. It says `online`, then does each task the primary sends and answers with its result,
// one message each way per task, until the primary's `shutdown` message: then it exits with code 0 once its
// last result is written. Node's process.on('message') and process.send().
//
//     lesson05-worker [--die-on-task J] [--garble-on-task J]     (started by lesson05, never by hand)
//
// Its channel: messages from the primary on stdin, messages to the primary on the descriptor named by
// CLUSTERKIT_CHANNEL_FD (Node's NODE_CHANNEL_FD). End-of-file on stdin before `shutdown` means the primary is
// gone: the worker exits 1 instead of living on as an orphan.
// YOUR CODE: fill in the TODO(lesson 05) gap in on_message().
#include "channel.hpp"
#include "tasks.hpp"

#include <clusterkit/cli.hpp>
#include <clusterkit/errors.hpp>
#include <clusterkit/events.hpp>

#include <boost/asio/io_context.hpp>

#include <csignal>
#include <cstdlib>
#include <optional>
#include <unistd.h>

namespace {

namespace asio = boost::asio;
namespace json = boost::json;

constexpr std::string_view program = "lesson05-worker";

struct WorkerOptions {
    std::optional<int> die_on_task;     // abort() on the first attempt of this task
    std::optional<int> garble_on_task;  // a broken frame for the first attempt of this task
};

WorkerOptions read_options(int argc, char* argv[]) {
    namespace po = clusterkit::program_options;
    po::options_description options("options");
    options.add_options()
        ("die-on-task", po::value<std::string>(), "abort() when given task J for the first time")
        ("garble-on-task", po::value<std::string>(), "answer task J, the first time, with a broken frame");
    const auto values = clusterkit::parse_command_line(
        argc, argv, "lesson05-worker [--die-on-task J] [--garble-on-task J]", options);
    WorkerOptions worker;
    if (values.count("die-on-task")) worker.die_on_task = clusterkit::number_option(values, "die-on-task", 1);
    if (values.count("garble-on-task")) worker.garble_on_task = clusterkit::number_option(values, "garble-on-task", 1);
    return worker;
}

int environment_number(const char* name) {
    const char* text = std::getenv(name);
    const auto number = clusterkit::parse_whole_number(text ? text : "");
    if (!number) throw clusterkit::UsageError(std::string(name) + " is not set: lesson05 starts me");
    return *number;
}

class Worker {
public:
    Worker(asio::io_context& context, WorkerOptions options, int channel_fd)
        : context_(context),
          options_(options),
          channel_(lesson05::Channel::create(asio::readable_pipe(context, ::dup(STDIN_FILENO)),
                                             asio::writable_pipe(context, channel_fd))) {}

    int run() {
        channel_->start({
            .on_message = [this](const json::object& message) { on_message(message); },
            .on_malformed = [this](const std::string& why) { quit("the primary sent a malformed message: " + why); },
            .on_closed = [this](boost::system::error_code) { quit("the primary is gone (no shutdown message)"); },
        });
        channel_->send(json::object{{"type", "online"}, {"pid", ::getpid()}});
        context_.run();
        return status_;
    }

private:
    void on_message(const json::object& message) {
        const auto type = *lesson05::string_field(message, "type");
        //tag::shutdown[]
        if (type == "shutdown") {
            // TODO(lesson 05): once every queued message has been written (when_sent), exit with status 0:
            // set status_, close the channel and stop the event loop. (Until then the worker ignores it.)
            return;
        }
        //end::shutdown[]
        if (type == "task") return on_task(message);
        quit("the primary sent an unknown message type '" + std::string(type) + "'");
    }

    void on_task(const json::object& message) {
        const auto task = lesson05::integer_field(message, "task");
        const auto attempt = lesson05::integer_field(message, "attempt");
        const auto from = lesson05::integer_field(message, "from");
        const auto to = lesson05::integer_field(message, "to");
        if (!task || !attempt || !from || !to) return quit("the primary sent a task without task, attempt, from or to");
        const bool first = *attempt == 1;
        if (first && options_.die_on_task == *task) std::abort();  // a crash in the middle of a task
        if (first && options_.garble_on_task == *task) {
            // Half a frame: the JSON stops in the middle, and the newline ends it anyway.
            return channel_->send_line("{\"type\":\"result\",\"task\":" + std::to_string(*task) + ",\"res");
        }
        json::object result{{"type", "result"}, {"task", *task}, {"result", lesson05::count_primes(*from, *to)}};
        if (const auto* payload = message.if_contains("payload")) result["payload"] = *payload;  // echo mode
        channel_->send(result);
    }

    void quit(const std::string& why) {
        clusterkit::report_error(program, why);
        channel_->close();
        context_.stop();
    }

    asio::io_context& context_;
    WorkerOptions options_;
    std::shared_ptr<lesson05::Channel> channel_;
    int status_ = clusterkit::exit_status::failure;
};

}  // namespace

int main(int argc, char* argv[]) {
    return clusterkit::run_main(program, [&] {
        const auto options = read_options(argc, argv);
        const int id = environment_number("CLUSTERKIT_WORKER_ID");
        const int channel_fd = environment_number("CLUSTERKIT_CHANNEL_FD");
        std::signal(SIGPIPE, SIG_IGN);  // a write to a gone primary fails with EPIPE instead
        clusterkit::emit("worker", {{"id", id}, {"pid", ::getpid()}});
        asio::io_context context;
        return Worker(context, options, channel_fd).run();
    });
}
