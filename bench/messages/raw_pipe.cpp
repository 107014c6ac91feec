// raw-pipe: the physical limit for bench/messages. The same two measurements as bench-messages (lesson 05's
// channel) and node-ipc.js (Node's cluster IPC), over the same two pipes, with nothing else: no framing, no
// JSON, no event loop, blocking read(2) and write(2). Whatever a message channel adds costs time on top of this.
//
//     raw-pipe [--round-trips N] [--big-messages M] [--worker-cpu C] [--epoll | --asio]    (bench/messages/run runs it)
//
// --epoll: the floor of an event loop instead. Each read is preceded by epoll_wait(2) on that pipe, as an event
// loop waits (Asio, libuv) before it reads from a descriptor the last read emptied: two system calls to
// receive a message instead of one. Prints impl=raw-epoll.
// --asio: the floor of Asio on pipes. Both sides read and write as lesson 05's channel does, with Boost.Asio
// (asio::readable_pipe and writable_pipe, async_read of a whole message, async_write of it, completion
// handlers, one io_context each), but without framing or JSON: what the channel cannot go below while it is
// built on Asio's pipes (bench/messages/README.md says what Asio adds per message). Prints impl=raw-asio.
//
// A small message is 24 bytes (as long as {"type":"ping","n":1234} and its newline); a big one 1 MiB. One
// message in flight at a time: the primary writes it whole, the worker reads it whole and writes it back whole.
// --worker-cpu C: the worker runs on CPU C only (the primary on whatever `taskset` gave it).
// Prints one event line: `bench impl=raw round_trips_per_s=R mib_per_s=B`.
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/readable_pipe.hpp>
#include <boost/asio/writable_pipe.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sched.h>
#include <string>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void fail(const char* what) {
    std::fprintf(stderr, "raw-pipe: error: %s: %s\n", what, std::strerror(errno));
    std::exit(1);
}

[[noreturn]] void fail(const char* what, const boost::system::error_code& error) {
    std::fprintf(stderr, "raw-pipe: error: %s: %s\n", what, error.message().c_str());
    std::exit(1);
}

bool wait_with_epoll = false;  // --epoll
bool with_asio = false;        // --asio

// With --epoll, waits until `fd` can be read, as an event loop does.
void wait_readable(int fd) {
    if (!wait_with_epoll) return;
    static const int epoll = [] {
        const int created = ::epoll_create1(EPOLL_CLOEXEC);
        if (created < 0) fail("epoll_create1");
        return created;
    }();
    static int registered = -1;
    if (registered != fd) {
        epoll_event event{};
        event.events = EPOLLIN;
        event.data.fd = fd;
        if (::epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event) != 0) fail("epoll_ctl");
        registered = fd;
    }
    epoll_event ready{};
    while (::epoll_wait(epoll, &ready, 1, -1) < 0)
        if (errno != EINTR) fail("epoll_wait");
}

// Reads exactly `size` bytes; false at end-of-file.
bool read_whole(int fd, char* data, std::size_t size) {
    while (size > 0) {
        wait_readable(fd);
        const ssize_t got = ::read(fd, data, size);
        if (got == 0) return false;
        if (got < 0) {
            if (errno == EINTR) continue;
            fail("read");
        }
        data += got;
        size -= static_cast<std::size_t>(got);
    }
    return true;
}

void write_whole(int fd, const char* data, std::size_t size) {
    while (size > 0) {
        const ssize_t put = ::write(fd, data, size);
        if (put < 0) {
            if (errno == EINTR) continue;
            fail("write");
        }
        data += put;
        size -= static_cast<std::size_t>(put);
    }
}

void pin_to(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (::sched_setaffinity(0, sizeof set, &set) != 0) fail("sched_setaffinity");
}

// The worker: reads a size (the first 8 bytes the primary sends, once per measurement), then echoes messages
// of that size until the primary closes its pipe.
void echo(int in, int out) {
    std::size_t size = 0;
    std::vector<char> message;
    while (read_whole(in, reinterpret_cast<char*>(&size), sizeof size)) {
        message.resize(size);
        std::size_t count = 0;
        if (!read_whole(in, reinterpret_cast<char*>(&count), sizeof count)) fail("the primary stopped early");
        for (std::size_t i = 0; i < count; ++i) {
            if (!read_whole(in, message.data(), size)) fail("the primary stopped early");
            write_whole(out, message.data(), size);
        }
    }
}

// `count` round trips of `size` bytes; returns the seconds they took.
double measure(int to_worker, int from_worker, std::size_t size, std::size_t count) {
    std::vector<char> message(size, 'x');
    write_whole(to_worker, reinterpret_cast<const char*>(&size), sizeof size);
    write_whole(to_worker, reinterpret_cast<const char*>(&count), sizeof count);
    const auto begin = Clock::now();
    for (std::size_t i = 0; i < count; ++i) {
        message[0] = static_cast<char>('a' + i % 26);
        write_whole(to_worker, message.data(), size);
        if (!read_whole(from_worker, message.data(), size)) fail("the worker stopped early");
        if (message[0] != static_cast<char>('a' + i % 26)) fail("the echo differs");
    }
    return std::chrono::duration<double>(Clock::now() - begin).count();
}

namespace asio = boost::asio;

// --asio, the worker: the same protocol as echo(), each read and write an Asio operation on the io_context.
class AsioEcho {
public:
    AsioEcho(asio::io_context& context, int in, int out) : in_(context, in), out_(context, out) { read_header(); }

private:
    void read_header() {
        asio::async_read(in_, asio::buffer(header_), [this](boost::system::error_code error, std::size_t) {
            if (error == asio::error::eof) return;  // the primary is done
            if (error) fail("read", error);
            message_.resize(header_[0]);
            remaining_ = header_[1];
            read_message();
        });
    }

    void read_message() {
        if (remaining_ == 0) return read_header();
        --remaining_;
        asio::async_read(in_, asio::buffer(message_), [this](boost::system::error_code error, std::size_t) {
            if (error) fail("read", error);
            asio::async_write(out_, asio::buffer(message_), [this](boost::system::error_code error, std::size_t) {
                if (error) fail("write", error);
                read_message();
            });
        });
    }

    asio::readable_pipe in_;
    asio::writable_pipe out_;
    std::array<std::size_t, 2> header_{};  // size, count
    std::vector<char> message_;
    std::size_t remaining_ = 0;
};

// --asio, the primary: measure()'s round trips, each write and read an Asio operation.
class AsioRoundTrips {
public:
    AsioRoundTrips(asio::io_context& context, int to_worker, int from_worker)
        : context_(context), to_worker_(context, to_worker), from_worker_(context, from_worker) {}

    double measure(std::size_t size, std::size_t count) {
        message_.assign(size, 'x');
        const std::array<std::size_t, 2> header{size, count};
        asio::write(to_worker_, asio::buffer(header));
        remaining_ = count;
        const auto begin = Clock::now();
        next();
        context_.run();
        context_.restart();
        return std::chrono::duration<double>(Clock::now() - begin).count();
    }

private:
    void next() {
        if (remaining_ == 0) return;
        --remaining_;
        asio::async_write(to_worker_, asio::buffer(message_), [this](boost::system::error_code error, std::size_t) {
            if (error) fail("write", error);
            asio::async_read(from_worker_, asio::buffer(message_),
                             [this](boost::system::error_code error, std::size_t) {
                                 if (error) fail("read", error);
                                 next();
                             });
        });
    }

    asio::io_context& context_;
    asio::writable_pipe to_worker_;
    asio::readable_pipe from_worker_;
    std::vector<char> message_;
    std::size_t remaining_ = 0;
};

long option(int argc, char* argv[], const std::string& name, long fallback) {
    for (int i = 1; i + 1 < argc; ++i)
        if (argv[i] == name) return std::strtol(argv[i + 1], nullptr, 10);
    return fallback;
}

}  // namespace

int main(int argc, char* argv[]) {
    const long round_trips = option(argc, argv, "--round-trips", 20000);
    const long big_messages = option(argc, argv, "--big-messages", 200);
    const long worker_cpu = option(argc, argv, "--worker-cpu", -1);
    for (int i = 1; i < argc; ++i) {
        wait_with_epoll = wait_with_epoll || argv[i] == std::string("--epoll");
        with_asio = with_asio || argv[i] == std::string("--asio");
    }
    if (round_trips < 1 || big_messages < 1) {
        std::fprintf(stderr, "raw-pipe: error: --round-trips and --big-messages want a whole number >= 1\n");
        return 2;
    }
    int to_worker[2], from_worker[2];
    if (::pipe(to_worker) != 0 || ::pipe(from_worker) != 0) fail("pipe");
    const pid_t worker = ::fork();
    if (worker < 0) fail("fork");
    if (worker == 0) {
        ::close(to_worker[1]);
        ::close(from_worker[0]);
        if (worker_cpu >= 0) pin_to(static_cast<int>(worker_cpu));
        if (with_asio) {
            asio::io_context context;  // made after the fork: each process its own
            AsioEcho echo(context, to_worker[0], from_worker[1]);
            context.run();
        } else {
            echo(to_worker[0], from_worker[1]);
        }
        ::_exit(0);
    }
    ::close(to_worker[0]);
    ::close(from_worker[1]);
    double small_s = 0, big_s = 0;
    if (with_asio) {
        asio::io_context context;
        AsioRoundTrips primary(context, to_worker[1], from_worker[0]);  // owns the two descriptors
        primary.measure(24, 200);  // warm up
        small_s = primary.measure(24, static_cast<std::size_t>(round_trips));
        big_s = primary.measure(1024 * 1024, static_cast<std::size_t>(big_messages));
    } else {
        measure(to_worker[1], from_worker[0], 24, 200);  // warm up
        small_s = measure(to_worker[1], from_worker[0], 24, static_cast<std::size_t>(round_trips));
        big_s = measure(to_worker[1], from_worker[0], 1024 * 1024, static_cast<std::size_t>(big_messages));
        ::close(to_worker[1]);
    }
    int status = 0;
    if (::waitpid(worker, &status, 0) != worker || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        std::fprintf(stderr, "raw-pipe: error: the worker failed\n");
        return 1;
    }
    const char* impl = with_asio ? "raw-asio" : wait_with_epoll ? "raw-epoll" : "raw";
    std::printf("bench impl=%s round_trips_per_s=%lld mib_per_s=%lld\n", impl,
                static_cast<long long>(round_trips / small_s),
                static_cast<long long>(2.0 * big_messages / big_s));
    return 0;
}
