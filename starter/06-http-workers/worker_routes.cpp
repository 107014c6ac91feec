// Lesson 06: the routes of the seed's express app, in C++ (lessons/06-http-workers/README.md, "From express
// to Beast"). See worker_routes.hpp.
// YOUR CODE: fill in the TODO(lesson 06) gap below.
#include "worker_routes.hpp"

#include <clusterkit/cli.hpp>

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>

#include <ctime>
#include <string>

namespace lesson06 {
namespace {

using namespace std::string_view_literals;

Response text_response(http::status status, std::string_view content_type, std::string_view body) {
    Response response(status, 11);
    response.set(http::field::content_type, content_type);
    response.body() = std::string(body);
    response.prepare_payload();  // Content-Length, from the body
    return response;
}

// "/work?ms=250" -> {"/work", "ms=250"}
std::pair<std::string_view, std::string_view> split_target(std::string_view target) {
    const auto question = target.find('?');
    if (question == std::string_view::npos) return {target, {}};
    return {target.substr(0, question), target.substr(question + 1)};
}

// The value of `name` in a query string "a=1&ms=250"; empty if it is not there.
[[maybe_unused]] std::string_view query_value(std::string_view query, std::string_view name) {
    while (!query.empty()) {
        const auto end = std::min(query.find('&'), query.size());
        const auto pair = query.substr(0, end);
        if (pair.size() > name.size() && pair.starts_with(name) && pair[name.size()] == '=')
            return pair.substr(name.size() + 1);
        query.remove_prefix(std::min(end + 1, query.size()));
    }
    return {};
}

std::chrono::nanoseconds thread_cpu_time() {
    timespec now{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
    return std::chrono::seconds(now.tv_sec) + std::chrono::nanoseconds(now.tv_nsec);
}

}  // namespace

//tag::routes[]
Answer answer(const Request& request) {
    // TODO(lesson 06): route the request as the seed's express app would: GET / is the greeting (given
    // below); GET /work?ms=M burns M ms of CPU first (0 to max_work, else 400); any other path is 404. HEAD
    // gets what GET would get, headers only (the same Content-Length, no body); any other method on these
    // paths is 405 with an Allow header that lists the methods served.
    [[maybe_unused]] const auto [path, query] = split_target(request.target());
    return {text_response(http::status::ok, "text/html; charset=utf-8", greeting)};
}
//end::routes[]

Response error_response(http::status status, std::string_view why) {
    return text_response(status, "text/plain; charset=utf-8", std::string(why) + "\n");
}

void burn_cpu(std::chrono::nanoseconds duration) {
    const auto until = thread_cpu_time() + duration;
    while (thread_cpu_time() < until) {
        // busy on purpose: this is the CPU work a real handler would do
    }
}

}  // namespace lesson06
