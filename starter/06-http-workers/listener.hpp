// Lesson 06: the one listening socket that every worker serves. The primary opens it; the workers inherit it.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <string>

namespace lesson06 {

// Binds host:port and listens (port 0: the kernel picks a free port). Throws one clear message naming the
// address, "cannot listen on 127.0.0.1:5000: Address already in use", when that fails.
boost::asio::ip::tcp::acceptor open_listener(boost::asio::io_context& context, const boost::asio::ip::address& host,
                                             int port);

// The port the listener is bound to (the real one after port 0); throws if it is not open.
unsigned short listening_port(const boost::asio::ip::tcp::acceptor& listener);

// "127.0.0.1" -> the address; a UsageError for anything that is not an IPv4 or IPv6 address.
boost::asio::ip::address parse_host(const std::string& text);

}  // namespace lesson06
