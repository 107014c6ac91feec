// A client that keeps sending requests. See steady_client.hpp.
#include "steady_client.hpp"

#include "http_client.hpp"

#include <algorithm>

namespace clusterkit::testing {

SteadyClient::SteadyClient(unsigned short port, std::string expected_body, std::size_t max_requests)
    : expected_body_(std::move(expected_body)), max_requests_(max_requests), thread_([this, port] { run(port); }) {}

SteadyClient::~SteadyClient() { stop(); }

void SteadyClient::stop() {
    stopping_ = true;
    if (thread_.joinable()) thread_.join();
}

bool SteadyClient::wait_for_answer_from(pid_t pid, std::chrono::milliseconds deadline) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, deadline, [&] {
        return std::ranges::any_of(outcomes_, [&](const Outcome& outcome) { return outcome.pid == pid; });
    });
}

bool SteadyClient::wait_for_requests(std::size_t count, std::chrono::milliseconds deadline) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, deadline, [&] { return outcomes_.size() >= count; });
}

std::vector<SteadyClient::Outcome> SteadyClient::outcomes() {
    std::lock_guard lock(mutex_);
    return outcomes_;
}

std::vector<SteadyClient::Outcome> SteadyClient::failures() {
    auto found = outcomes();
    std::erase_if(found, [](const Outcome& outcome) { return outcome.error.empty(); });
    return found;
}

void SteadyClient::run(unsigned short port) {
    for (std::size_t sent = 0; !stopping_ && sent < max_requests_; ++sent) {
        Outcome outcome{.sent = Clock::now(), .pid = 0, .error = {}};
        try {
            const auto response = http_request(port, "GET", "/");
            if (response.status == 200 && response.body == expected_body_) outcome.pid = response.worker_pid();
            else outcome.error = "answered " + response.describe();
        } catch (const std::exception& error) {
            outcome.error = error.what();
        }
        std::lock_guard lock(mutex_);
        outcomes_.push_back(outcome);
        changed_.notify_all();
    }
}

}  // namespace clusterkit::testing
