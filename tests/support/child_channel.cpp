// clusterkit-test-child's `channel05 SPEC` step: a lesson 05 worker written for the autograder, started by
// lesson05 in place of lesson05-worker (--exec), that can misbehave on purpose, one way at a time, so that a
// test makes a fault happen instead of waiting for it. It speaks the lesson's protocol: newline-delimited JSON,
// messages from the primary on stdin, to the primary on the descriptor named by CLUSTERKIT_CHANNEL_FD.
//
// It prints (stdout, one write each, event lines):
//   child-start id=I pid=P                                       when it starts
//   child-got id=I pid=P type=T [task=J attempt=A bytes=B]        each message it reads (B: payload bytes)
//   child-bad-frame id=I pid=P                                    a frame that is not JSON, or a payload that is
//                                                                 not the lesson's (then it exits 1)
//   child-late id=I pid=G                                         `late`: the process G that holds the result
//   child-pending id=I pid=P                                      `slow-reader`: the primary has begun to write
//                                                                 to it (its pipe holds unread bytes)
//
// SPEC is a comma-separated list; with none of these (`normal`) it behaves as lesson05-worker does:
//   silent            never says online (it still reads, and exits 0 on shutdown)
//   close-stdin       closes its end of the primary's pipe before it says online (and then waits to be killed)
//   slow-reader       reads nothing after online until SIGUSR1 arrives (it says child-pending once the
//                     primary has begun to write to it)
//   hold              keeps each task unanswered until shutdown arrives: then answers it and exits 0
//   ignore-shutdown   answers tasks, and goes on reading after shutdown (until it is killed)
//   die-upto=N        abort()s on a task whose attempt is N or less (each task: the first N workers die)
//   sigkill-on=J      on the first attempt of task J, is killed with SIGKILL (by itself) before it answers
//   late              on the first attempt of task 1: a forked process G keeps the channel and writes the result
//                     once it gets SIGUSR1; the worker itself is killed (SIGKILL) at once
//   bad=KIND          on the first attempt of task 1, answers with a frame that is not a message of the protocol, then
//                     waits to be killed: not-json, not-object, no-type, unknown-type, other-task (a result for a
//                     task it was not given), result-then-garbage (the right result and a broken frame in one
//                     write), huge (16 MiB + 1 bytes without a newline)
#include "child_channel.hpp"

#include <clusterkit/errors.hpp>
#include <clusterkit/fd.hpp>

#include <boost/json.hpp>

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <poll.h>
#include <span>
#include <sstream>
#include <string>
#include <sys/resource.h>
#include <unistd.h>

namespace clusterkit::testing {
namespace {

namespace json = boost::json;

struct Spec {
    bool silent = false;
    bool close_stdin = false;
    bool slow_reader = false;
    bool hold = false;
    bool ignore_shutdown = false;
    long long die_upto = 0;
    long long sigkill_on = 0;
    bool late = false;
    std::string bad;
};

Spec parse_spec(const std::string& text) {
    Spec spec;
    std::istringstream in(text);
    for (std::string item; std::getline(in, item, ',');) {
        if (item.empty() || item == "normal") continue;
        if (item == "silent") spec.silent = true;
        else if (item == "close-stdin") spec.close_stdin = true;
        else if (item == "slow-reader") spec.slow_reader = true;
        else if (item == "hold") spec.hold = true;
        else if (item == "ignore-shutdown") spec.ignore_shutdown = true;
        else if (item.starts_with("die-upto=")) spec.die_upto = std::stoll(item.substr(9));
        else if (item.starts_with("sigkill-on=")) spec.sigkill_on = std::stoll(item.substr(11));
        else if (item == "late") spec.late = true;
        else if (item.starts_with("bad=")) spec.bad = item.substr(4);
        else throw UsageError("channel05: unknown item '" + item + "'");
    }
    return spec;
}

void print_line(const std::string& text) {
    const std::string line = text + '\n';
    write_all(STDOUT_FILENO, std::as_bytes(std::span(line)));
}

int environment_number(const char* name) {
    const char* text = std::getenv(name);
    if (!text) throw UsageError(std::string(name) + " is not set: lesson05 starts me");
    return std::atoi(text);
}

std::int64_t count_primes(std::int64_t from, std::int64_t to) {
    std::int64_t count = 0;
    for (std::int64_t n = from < 2 ? 2 : from; n < to; ++n) {
        bool prime = n == 2 || n % 2 != 0;
        for (std::int64_t d = 3; prime && d * d <= n; d += 2) prime = n % d != 0;
        count += prime ? 1 : 0;
    }
    return count;
}

// The lesson's payload of task J: byte i is 'a' + (i + J) % 26.
bool is_payload_of(std::string_view payload, std::int64_t task) {
    for (std::size_t i = 0; i < payload.size(); ++i)
        if (payload[i] != static_cast<char>('a' + (i + static_cast<std::size_t>(task)) % 26)) return false;
    return true;
}

std::int64_t field(const json::object& message, std::string_view key) {
    const auto* value = message.if_contains(key);
    return value && value->is_int64() ? value->as_int64() : 0;
}

class ChannelWorker {
public:
    ChannelWorker(Spec spec) : spec_(std::move(spec)), id_(environment_number("CLUSTERKIT_WORKER_ID")),
                               out_(environment_number("CLUSTERKIT_CHANNEL_FD")) {}

    int run() {
        print_line("child-start id=" + std::to_string(id_) + " pid=" + std::to_string(::getpid()));
        if (spec_.close_stdin) ::close(STDIN_FILENO);
        if (!spec_.silent) send(json::serialize(json::object{{"type", "online"}, {"pid", ::getpid()}}));
        if (spec_.close_stdin) wait_to_be_killed();  // nothing to read
        if (spec_.slow_reader) read_nothing_until_usr1();
        for (;;) {
            const auto frame = next_frame();
            if (!frame) return 1;  // the primary is gone, without a shutdown
            json::error_code error;
            const auto value = json::parse(*frame, error);
            if (error || !value.is_object()) return bad_frame();
            const auto& message = value.as_object();
            const auto* type = message.if_contains("type");
            if (!type || !type->is_string()) return bad_frame();
            if (*type == "shutdown") {
                print_line(prefix() + " type=shutdown");
                if (spec_.ignore_shutdown) continue;
                if (held_) answer(*held_);
                return 0;
            }
            if (*type != "task") return bad_frame();
            if (const auto status = on_task(message)) return *status;
        }
    }

private:
    std::string prefix() const {
        return "child-got id=" + std::to_string(id_) + " pid=" + std::to_string(::getpid());
    }

    // Returns an exit status to end with, or nothing to go on reading.
    std::optional<int> on_task(const json::object& task) {
        const auto number = field(task, "task");
        const auto attempt = field(task, "attempt");
        std::size_t bytes = 0;
        if (const auto* payload = task.if_contains("payload")) {
            if (!payload->is_string() || !is_payload_of(payload->as_string(), number)) return bad_frame();
            bytes = payload->as_string().size();
        }
        print_line(prefix() + " type=task task=" + std::to_string(number) + " attempt=" + std::to_string(attempt) +
                   " bytes=" + std::to_string(bytes));
        if (attempt <= spec_.die_upto) die(SIGABRT);
        if (number == spec_.sigkill_on && attempt == 1) die(SIGKILL);
        const bool first_of_task_1 = number == 1 && attempt == 1;
        if (first_of_task_1 && spec_.late) answer_late(task);
        if (first_of_task_1 && !spec_.bad.empty()) {
            send_bad(task);
            wait_to_be_killed();  // the primary kills a worker that broke the protocol

        }
        if (spec_.hold) held_ = task;
        else answer(task);
        return std::nullopt;
    }

    std::string result_frame(const json::object& task) const {
        json::object result{{"type", "result"}, {"task", field(task, "task")},
                            {"result", count_primes(field(task, "from"), field(task, "to"))}};
        if (const auto* payload = task.if_contains("payload")) result["payload"] = *payload;
        return json::serialize(result);
    }

    void answer(const json::object& task) { send(result_frame(task)); }

    // The worker dies with its result not yet written; a process of its own writes it later, on SIGUSR1, so that
    // the primary sees the worker's exit first and its result afterwards.
    [[noreturn]] void answer_late(const json::object& task) {
        const std::string frame = result_frame(task) + '\n';
        sigset_t usr1;
        sigemptyset(&usr1);
        sigaddset(&usr1, SIGUSR1);
        ::sigprocmask(SIG_BLOCK, &usr1, nullptr);
        const pid_t holder = ::fork();
        if (holder == 0) {
            ::close(STDIN_FILENO);  // only the channel to the primary: the worker's end of the other one dies with it
            int signal = 0;
            ::sigwait(&usr1, &signal);
            write_all(out_, std::as_bytes(std::span(frame)));
            ::_exit(0);
        }
        print_line("child-late id=" + std::to_string(id_) + " pid=" + std::to_string(holder));
        die(SIGKILL);
    }

    void send_bad(const json::object& task) {
        const auto number = field(task, "task");
        if (spec_.bad == "not-json") return send("this is not JSON");
        if (spec_.bad == "not-object") return send("[1,2,3]");
        if (spec_.bad == "no-type") return send("{\"task\":" + std::to_string(number) + "}");
        if (spec_.bad == "unknown-type") return send("{\"type\":\"gossip\",\"task\":" + std::to_string(number) + "}");
        if (spec_.bad == "other-task")
            return send("{\"type\":\"result\",\"task\":" + std::to_string(number + 1000) + ",\"result\":0}");
        if (spec_.bad == "result-then-garbage") return send(result_frame(task) + "\n{\"type\":\"res");
        if (spec_.bad == "huge") {
            const std::string endless((16 << 20) + 1, 'x');
            return write_all(out_, std::as_bytes(std::span(endless)));
        }
        throw UsageError("channel05: unknown bad frame '" + spec_.bad + "'");
    }

    int bad_frame() {
        print_line("child-bad-frame id=" + std::to_string(id_) + " pid=" + std::to_string(::getpid()));
        return 1;
    }

    void send(const std::string& frame) {
        const std::string line = frame + '\n';
        write_all(out_, std::as_bytes(std::span(line)));
    }

    std::optional<std::string> next_frame() {
        for (;;) {
            if (const auto newline = input_.find('\n'); newline != std::string::npos) {
                std::string frame = input_.substr(0, newline);
                input_.erase(0, newline + 1);
                return frame;
            }
            char buffer[65536];
            const ssize_t got = ::read(STDIN_FILENO, buffer, sizeof buffer);
            if (got < 0 && errno == EINTR) continue;
            if (got <= 0) return std::nullopt;
            input_.append(buffer, static_cast<std::size_t>(got));
        }
    }

    // slow-reader: says child-pending once the primary's first message is in the pipe (poll() reads none of
    // it), then waits for SIGUSR1. SIGUSR1 is blocked first, so that an early one waits instead of killing it.
    void read_nothing_until_usr1() {
        sigset_t usr1;
        sigemptyset(&usr1);
        sigaddset(&usr1, SIGUSR1);
        ::sigprocmask(SIG_BLOCK, &usr1, nullptr);
        pollfd input{.fd = STDIN_FILENO, .events = POLLIN, .revents = 0};
        while (::poll(&input, 1, -1) < 0 && errno == EINTR) {}
        print_line("child-pending id=" + std::to_string(id_) + " pid=" + std::to_string(::getpid()));
        int got = 0;
        ::sigwait(&usr1, &got);
    }

    [[noreturn]] static void wait_to_be_killed() {
        for (;;) ::pause();
    }

    [[noreturn]] static void die(int signal) {
        const rlimit no_core{0, 0};
        ::setrlimit(RLIMIT_CORE, &no_core);
        ::signal(signal, SIG_DFL);
        ::raise(signal);
        ::_exit(1);
    }

    Spec spec_;
    int id_;
    int out_;
    std::string input_;
    std::optional<json::object> held_;
};

}  // namespace

int serve_channel05(const std::string& spec) {
    std::signal(SIGPIPE, SIG_IGN);  // a gone primary is a failed write, not a death
    return ChannelWorker(parse_spec(spec)).run();
}

}  // namespace clusterkit::testing
