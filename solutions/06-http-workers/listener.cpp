// Lesson 06: the listening socket, opened once by the primary (lessons/06-http-workers/README.md, "One socket,
// many acceptors"). The workers never bind: each inherits this socket and accepts on it.
#include "listener.hpp"

#include <clusterkit/errors.hpp>

#include <boost/asio/socket_base.hpp>

namespace lesson06 {
namespace asio = boost::asio;
using asio::ip::tcp;

//tag::listen[]
tcp::acceptor open_listener(asio::io_context& context, const asio::ip::address& host, int port) {
    const tcp::endpoint endpoint(host, static_cast<unsigned short>(port));
    tcp::acceptor acceptor(context);
    boost::system::error_code error;
    // SO_REUSEADDR lets a restarted server bind at once while old connections linger in TIME_WAIT; it
    // never lets two live sockets listen on one port (that is SO_REUSEPORT).
    acceptor.open(endpoint.protocol(), error);
    if (!error) acceptor.set_option(asio::socket_base::reuse_address(true), error);
    if (!error) acceptor.bind(endpoint, error);
    if (!error) acceptor.listen(asio::socket_base::max_listen_connections, error);
    if (error) {
        const std::string where = host.is_v6() ? "[" + host.to_string() + "]" : host.to_string();
        throw std::runtime_error("cannot listen on " + where + ":" + std::to_string(port) + ": " + error.message());
    }
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
