// Lesson 06: the routes of the seed's express app, in C++ (lessons/06-http-workers/README.md, "From express
// to Beast"). See worker_routes.hpp.
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
std::string_view query_value(std::string_view query, std::string_view name) {
    while (!query.empty()) {
        const auto end = std::min(query.find('&'), query.size());
        const auto pair = query.substr(0, end);
        if (pair.size() > name.size() && pair.starts_with(name) && pair[name.size()] == '=')
            return pair.substr(name.size() + 1);
        query.remove_prefix(std::min(end + 1, query.size()));
    }
    return {};
}

bool is_page(std::string_view path) { return path == "/"sv || path == "/work"sv; }

// What GET answers: the seed's page, /work after its CPU work, or 404.
Answer answer_get(std::string_view path, std::string_view query) {
    if (!is_page(path)) return {error_response(http::status::not_found, "no such page")};
    if (path == "/"sv) return {text_response(http::status::ok, "text/html; charset=utf-8", greeting)};
    const auto ms = clusterkit::parse_whole_number(query_value(query, "ms"));
    if (!ms || *ms < 0 || *ms > max_work.count())
        return {error_response(http::status::bad_request, "/work wants ?ms=M, M from 0 to 60000")};
    return {text_response(http::status::ok, "text/plain; charset=utf-8", "worked ms=" + std::to_string(*ms) + "\n"),
            std::chrono::milliseconds(*ms)};
}

std::chrono::nanoseconds thread_cpu_time() {
    timespec now{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
    return std::chrono::seconds(now.tv_sec) + std::chrono::nanoseconds(now.tv_nsec);
}

}  // namespace

//tag::routes[]
Answer answer(const Request& request) {
    const auto [path, query] = split_target(request.target());
    const auto method = request.method();
    if (method != http::verb::get && method != http::verb::head && is_page(path)) {
        auto refusal = error_response(http::status::method_not_allowed, "only GET and HEAD are served here");
        refusal.set(http::field::allow, "GET, HEAD");
        return {refusal};
    }
    auto result = answer_get(path, query);
    if (method == http::verb::head) result.response.body().clear();  // GET's headers, Content-Length included
    return result;
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
