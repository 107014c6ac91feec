// Lesson 08: what lesson08-worker serves. It takes the place of lesson 06's worker_app.cpp: lesson 06's routes,
// plus two faults for the primary to supervise (lessons/08-supervision/README.md), and a request budget.
//
//     GET /leak?kb=K   keeps K KiB for good, every page written (so it is resident): the seed's leaky module.
//                      200 "leaked kb=K total-kb=T"
//     GET /hang        never answers: the handler spins, and the worker's event loop with it
//
// With CLUSTERKIT_MAX_REQUESTS=B in its environment, the worker tells its primary `retire requests=B` once it
// has been asked B requests (gunicorn's max_requests), and serves on until the primary replaces it.
// YOUR CODE: fill in the TODO(lesson 08) gap in leak(); the others are in memory.cpp and supervision.cpp.
#include "worker_routes.hpp"

#include <clusterkit/cli.hpp>
#include <clusterkit/primary_link.hpp>

#include <cstddef>
#include <cstdlib>
#include <string>
#include <vector>

namespace lesson06 {
namespace {

using namespace std::string_view_literals;

constexpr long max_leak_kb = 1024 * 1024;  // a GiB per request at most

class RequestBudget {
public:
    RequestBudget() {
        const char* text = std::getenv("CLUSTERKIT_MAX_REQUESTS");
        budget_ = clusterkit::parse_whole_number(text ? text : "").value_or(0);
    }
    void count() {
        if (++asked_ == budget_) primary_.send("retire", {{"requests", asked_}});
    }

private:
    clusterkit::PrimaryLink primary_ = clusterkit::PrimaryLink::from_environment();
    long budget_ = 0;  // 0: none
    long asked_ = 0;
};

RequestBudget budget;
[[maybe_unused]] std::vector<std::vector<std::byte>> leaked;  // never freed: that is the leak
long leaked_kb = 0;

//tag::leak[]
void leak([[maybe_unused]] long kb) {
    // TODO(lesson 08): keep `kb` KiB in `leaked`, for good, and count them in leaked_kb. The primary must see
    // the leak in this worker's resident set: think about which memory is resident.
}
//end::leak[]

Answer answer_leak(std::string_view query) {
    const auto kb = clusterkit::parse_whole_number(query_value(query, "kb"));
    if (!kb || *kb < 1 || *kb > max_leak_kb)
        return {error_response(http::status::bad_request, "/leak wants ?kb=K, K from 1 to 1048576")};
    leak(*kb);
    return {text_response(http::status::ok, "text/plain; charset=utf-8",
                          "leaked kb=" + std::to_string(*kb) + " total-kb=" + std::to_string(leaked_kb) + "\n")};
}

[[noreturn]] void hang() {
    for (volatile bool stuck = true; stuck;) {
        // the bug: a loop that never ends, in a handler, on the worker's only thread
    }
    std::abort();
}

}  // namespace

Answer serve(const Request& request) {
    budget.count();
    const auto [path, query] = split_target(request.target());
    if (path == "/leak"sv) return answer_leak(query);
    if (path == "/hang"sv) hang();
    return answer(request);
}

}  // namespace lesson06
