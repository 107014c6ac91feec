// Lesson 06: the listening socket, opened once by the primary (lessons/06-http-workers/README.md, "One socket,
// many acceptors"). The workers never bind: each inherits this socket and accepts on it.
// YOUR CODE: fill in the TODO(lesson 06) gap below; the others are in primary.cpp, worker_server.cpp,
// worker_session.cpp and worker_routes.cpp.
#include "listener.hpp"

#include <clusterkit/errors.hpp>

#include <boost/asio/socket_base.hpp>

namespace lesson06 {
namespace asio = boost::asio;
using asio::ip::tcp;

//tag::listen[]
tcp::acceptor open_listener(asio::io_context& context, const asio::ip::address& host, int port) {
    [[maybe_unused]] const tcp::endpoint endpoint(host, static_cast<unsigned short>(port));
    tcp::acceptor acceptor(context);
    // TODO(lesson 06): open `acceptor` for the endpoint's protocol, let it reuse the address, bind it to
    // `endpoint` and listen. If a step fails, throw one error that names the address and says why, such as
    // "cannot listen on 127.0.0.1:5000: Address already in use".
    return acceptor;
}
//end::listen[]

unsigned short listening_port(const tcp::acceptor& listener) {
    boost::system::error_code error;
    const auto endpoint = listener.local_endpoint(error);
    if (error) throw std::runtime_error("the listening socket is not open: " + error.message());
    return endpoint.port();
}

asio::ip::address parse_host(const std::string& text) {
    boost::system::error_code error;
    const auto address = asio::ip::make_address(text, error);
    if (error) throw clusterkit::UsageError("--host wants an IPv4 or IPv6 address such as 127.0.0.1, not '" + text + "'");
    return address;
}

}  // namespace lesson06
