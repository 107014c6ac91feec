// The autograder's HTTP client. See http_client.hpp.
//
// Beast's tcp_stream gives each asynchronous operation a deadline (expires_after): an operation that takes
// too long completes with beast::error::timeout. Each call starts one operation and runs this connection's
// own io_context until it completes, so the client is synchronous for the test and never hangs.
#include "http_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <deque>
#include <sstream>
#include <sys/socket.h>

namespace clusterkit::testing {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;
using boost::system::error_code;

namespace {

bool same_letters(std::string_view a, std::string_view b) {
    return std::ranges::equal(a, b, [](unsigned char x, unsigned char y) { return std::tolower(x) == std::tolower(y); });
}

}  // namespace

std::optional<std::string> HttpResponse::header(std::string_view name) const {
    for (const auto& [key, value] : headers)
        if (same_letters(key, name)) return value;
    return std::nullopt;
}

pid_t HttpResponse::worker_pid() const {
    const auto text = header("X-Worker-Pid");
    pid_t pid = 0;
    if (!text || std::from_chars(text->data(), text->data() + text->size(), pid).ec != std::errc{}) return 0;
    return pid;
}

std::string HttpResponse::describe() const {
    std::ostringstream text;
    text << status << ", X-Worker-Pid " << header("X-Worker-Pid").value_or("missing") << ", " << body.size()
         << " bytes";
    return text.str();
}

struct HttpClient::Impl {
    asio::io_context context;
    beast::tcp_stream stream{context};
    beast::flat_buffer buffer;
    std::chrono::milliseconds deadline;
    std::string where;
    std::deque<bool> heads;  // per request sent and not yet answered: was it HEAD (an answer without a body)?

    // Runs the one operation that was just started until it completes.
    void run() {
        context.restart();
        context.run();
    }

    [[noreturn]] void fail(std::string_view doing, error_code error) const {
        throw HttpError(std::string(doing) + " (" + where + "): " + error.message());
    }
};

HttpClient::HttpClient(unsigned short port, std::string_view host, std::chrono::milliseconds deadline)
    : impl_(std::make_unique<Impl>()) {
    auto& impl = *impl_;
    impl.deadline = deadline;
    impl.where = std::string(host) + ":" + std::to_string(port);
    const tcp::endpoint endpoint(asio::ip::make_address(host), port);
    error_code result;
    impl.stream.expires_after(deadline);
    impl.stream.async_connect(endpoint, [&](error_code error) { result = error; });
    impl.run();
    if (result) impl.fail("connecting", result);
}

HttpClient::~HttpClient() = default;

void HttpClient::close() {
    error_code ignored;
    impl_->stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    impl_->stream.close();
}

void HttpClient::send_request(std::string_view method, std::string_view target, Connection connection) {
    http::request<http::empty_body> request;
    request.method_string(method);  // any method, known to Beast or not
    request.target(target);
    request.version(11);
    request.set(http::field::host, impl_->where);
    request.keep_alive(connection == Connection::keep_alive);
    std::ostringstream bytes;
    bytes << request;
    send_raw(bytes.str());
    impl_->heads.push_back(method == "HEAD");
}

void HttpClient::send_raw(std::string_view bytes) {
    auto& impl = *impl_;
    error_code result;
    impl.stream.expires_after(impl.deadline);
    asio::async_write(impl.stream, asio::buffer(bytes), [&](error_code error, std::size_t) { result = error; });
    impl.run();
    if (result) impl.fail("sending a request", result);
}

HttpResponse HttpClient::read_response() {
    auto& impl = *impl_;
    http::response_parser<http::string_body> parser;
    parser.body_limit(1 << 20);
    if (!impl.heads.empty()) {
        parser.skip(impl.heads.front());  // the answer to HEAD has Content-Length but no body (RFC 9110, 9.3.2)
        impl.heads.pop_front();
    }
    error_code result;
    impl.stream.expires_after(impl.deadline);
    http::async_read(impl.stream, impl.buffer, parser, [&](error_code error, std::size_t) { result = error; });
    impl.run();
    if (result) impl.fail("reading a response", result);
    const auto& message = parser.get();
    HttpResponse response;
    response.status = static_cast<int>(message.result_int());
    for (const auto& field : message) response.headers.emplace_back(field.name_string(), field.value());
    response.body = message.body();
    response.keep_alive = message.keep_alive();
    return response;
}

HttpResponse HttpClient::request(std::string_view method, std::string_view target, Connection connection) {
    send_request(method, target, connection);
    return read_response();
}

bool HttpClient::wait_closed() {
    auto& impl = *impl_;
    if (impl.buffer.size() > 0) return false;  // bytes the server sent after its last response
    std::array<char, 256> bytes{};
    error_code result;
    std::size_t size = 0;
    impl.stream.expires_after(impl.deadline);
    impl.stream.async_read_some(asio::buffer(bytes), [&](error_code error, std::size_t got) {
        result = error;
        size = got;
    });
    impl.run();
    return size == 0 && (result == asio::error::eof || result == asio::error::connection_reset);
}

bool HttpClient::has_bytes_waiting() {
    auto& impl = *impl_;
    if (impl.buffer.size() > 0) return true;
    char byte = 0;
    // MSG_PEEK | MSG_DONTWAIT: 1 for a byte waiting, 0 for end-of-file, -1 with EAGAIN for nothing yet.
    const auto got = ::recv(impl.stream.socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return got >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK);
}

HttpResponse http_request(unsigned short port, std::string_view method, std::string_view target) {
    HttpClient client(port);
    return client.request(method, target, Connection::close);
}

}  // namespace clusterkit::testing
