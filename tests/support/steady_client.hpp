// A client that keeps sending requests while a test does something to the server (kills a worker, reloads,
// recycles one): `GET /` on a new connection (Connection: close) after another, in a thread of its own, until
// stopped, at most `max_requests` of them. It records each outcome; only the test's main thread asserts.
//
//     SteadyClient client(port, greeting);
//     REQUIRE(client.wait_for_requests(20));
//     ... kill, reload ...
//     client.stop();
//     CHECK(client.failures().empty());
#pragma once

#include "program.hpp"

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <string>
#include <sys/types.h>
#include <thread>
#include <vector>

namespace clusterkit::testing {

class SteadyClient {
public:
    struct Outcome {
        Clock::time_point sent;
        pid_t pid = 0;      // X-Worker-Pid of a 200 answer with the expected body; 0 for a failure
        std::string error;  // why it failed
    };

    // Starts at once. A request succeeds when it is answered 200 with `expected_body`.
    SteadyClient(unsigned short port, std::string expected_body, std::size_t max_requests = 20'000);
    ~SteadyClient();  // stop()
    SteadyClient(const SteadyClient&) = delete;
    SteadyClient& operator=(const SteadyClient&) = delete;

    void stop();
    // Waits until some request has been answered by `pid`; false at the deadline.
    bool wait_for_answer_from(pid_t pid, std::chrono::milliseconds deadline = default_deadline);
    // Waits until at least `count` requests have ended, failed or not; false at the deadline.
    bool wait_for_requests(std::size_t count, std::chrono::milliseconds deadline = default_deadline);
    std::vector<Outcome> outcomes();
    std::vector<Outcome> failures();

private:
    void run(unsigned short port);

    const std::string expected_body_;
    const std::size_t max_requests_;
    std::atomic<bool> stopping_ = false;
    std::mutex mutex_;
    std::condition_variable changed_;
    std::vector<Outcome> outcomes_;
    std::thread thread_;
};

}  // namespace clusterkit::testing
