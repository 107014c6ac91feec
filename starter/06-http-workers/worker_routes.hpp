// Lesson 06: what a worker answers, the seed's express app. Plain functions of the request: no sockets here.
//
//     GET /            200, the seed's <h1>Hi 👋</h1> as text/html; charset=utf-8
//     GET /work?ms=M   200 after burning M ms of this worker's CPU (to show multi-core scaling)
//     HEAD             what GET answers, headers only: the same Content-Length, no body (RFC 9110, 9.3.2)
//     other paths      404
//     other methods    405, with "Allow: GET, HEAD"
// Every response comes back complete, Content-Length set: the session only adds X-Worker-Pid and Connection.
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>

#include <chrono>
#include <string_view>

namespace lesson06 {

namespace http = boost::beast::http;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

// The seed's res.send("<h1>Hi 👋</h1>").
inline constexpr std::string_view greeting = "<h1>Hi 👋</h1>";

// The most CPU one request may ask for.
inline constexpr std::chrono::milliseconds max_work{60'000};

struct Answer {
    Response response;
    std::chrono::milliseconds cpu_work{0};  // burn this much CPU before sending the response (GET /work)
};

// The answer to a well-formed request.
Answer answer(const Request& request);

// A short text/plain response with `status` (400, 404, 405, ...) that says why.
Response error_response(http::status status, std::string_view why);

// Burns this thread's CPU time (not wall-clock time: a worker that shares its core gets less done per second).
void burn_cpu(std::chrono::nanoseconds duration);

}  // namespace lesson06
