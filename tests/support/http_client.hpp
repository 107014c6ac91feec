// A small HTTP/1.1 client for the autograder (Boost.Beast), so that tests need no curl: one connection per
// HttpClient, every operation with a deadline (default_deadline), errors thrown as HttpError with a sentence
// that says what failed. Beast stays inside http_client.cpp: tests that include this compile fast.
//
//     HttpClient client(port);                          // connects to 127.0.0.1:port
//     const auto response = client.request("GET", "/"); // keep-alive
//     CHECK(response.status == 200);
//     CHECK(response.header("X-Worker-Pid"));
//     client.send_raw("not http\r\n\r\n");              // for malformed requests
#pragma once

#include "program.hpp"

#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <utility>
#include <vector>

namespace clusterkit::testing {

// A request that failed: could not connect, the connection was reset or closed early, the deadline passed,
// or the answer was not HTTP.
class HttpError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct HttpResponse {
    int status = 0;
    std::vector<std::pair<std::string, std::string>> headers;  // in the order received
    std::string body;
    bool keep_alive = false;  // the server keeps the connection open after this response

    // The value of a header, looked up without regard to case; std::nullopt if it is absent.
    std::optional<std::string> header(std::string_view name) const;
    // X-Worker-Pid as a number; 0 if it is absent or not a number.
    pid_t worker_pid() const;
    std::string describe() const;  // "200, X-Worker-Pid 4242, 16 bytes", for failure messages
};

enum class Connection { keep_alive, close };

class HttpClient {
public:
    // Connects to host:port; throws HttpError if that fails or takes longer than `deadline`.
    explicit HttpClient(unsigned short port, std::string_view host = "127.0.0.1",
                        std::chrono::milliseconds deadline = default_deadline);
    ~HttpClient();
    HttpClient(const HttpClient&) = delete;
    HttpClient& operator=(const HttpClient&) = delete;

    // Sends one request and reads its response.
    HttpResponse request(std::string_view method, std::string_view target,
                         Connection connection = Connection::keep_alive);
    // Sends one request without reading its response (read it later with read_response()).
    void send_request(std::string_view method, std::string_view target,
                      Connection connection = Connection::keep_alive);
    // Sends bytes as they are: for requests that are not HTTP.
    void send_raw(std::string_view bytes);
    HttpResponse read_response();
    // True if the server closes the connection (end-of-file, or a reset) before the deadline, with no
    // more bytes; false if it stays open or sends something.
    bool wait_closed();
    // True if bytes from the server are waiting to be read now (or the connection has ended): for a test that
    // must show that an answer has *not* come yet. Does not wait.
    bool has_bytes_waiting();
    // Ends the connection from this side. A server that drains gives an idle connection a second for one
    // more request: a test that stops the server with its connections still open waits that second out.
    void close();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// One request on a connection of its own, with Connection: close.
HttpResponse http_request(unsigned short port, std::string_view method, std::string_view target);

}  // namespace clusterkit::testing
