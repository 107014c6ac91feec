// Lesson 05: the channel's code. See channel.hpp for what a Channel is; lessons/05-message-passing/README.md
// for why it reads and writes the way it does. Compiled into both programs: a file named common_*.cpp is.
// YOUR CODE: fill in the TODO(lesson 05) gaps in read_next() and write_next(), then in primary.cpp and
// worker.cpp.
#include "channel.hpp"

#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace lesson05 {

std::shared_ptr<Channel> Channel::create(boost::asio::readable_pipe in, boost::asio::writable_pipe out) {
    return std::shared_ptr<Channel>(new Channel(std::move(in), std::move(out)));
}

Channel::Channel(boost::asio::readable_pipe in, boost::asio::writable_pipe out)
    : in_(std::move(in)), out_(std::move(out)) {}

void Channel::start(Handlers handlers) {
    handlers_ = std::move(handlers);
    read_next();
}

void Channel::send(const boost::json::value& message) { send_line(boost::json::serialize(message)); }

//tag::send[]
void Channel::send_line(std::string line) {
    if (!open_ || !writable_) return;
    outgoing_.push_back(std::move(line) + '\n');
    if (!writing_) write_next();
}
//end::send[]

void Channel::when_sent(std::function<void()> then) {
    when_sent_ = std::move(then);
    if (!writing_) write_next();
}

void Channel::close() {
    open_ = false;
    boost::system::error_code ignored;
    in_.close(ignored);
    out_.close(ignored);
    outgoing_.clear();
}

namespace {

// The start of a frame, printable, for an error message on one line.
std::string preview(std::string_view frame) {
    std::string text;
    for (const char c : frame.substr(0, 40)) text += (c >= ' ' && c <= '~') ? c : '?';
    if (frame.size() > 40) text += "...";
    return text;
}

}  // namespace

// Reads until the next newline; the bytes after it stay in input_ for the next frame.
//tag::read[]
void Channel::read_next() {
    // TODO(lesson 05): read from in_ up to the next newline (input_ may already hold it, and bytes after it
    // belong to the next frame), hand the frame without its newline to deliver(), and read again while
    // open_. A frame longer than max_frame_bytes is malformed(); an error or end-of-file is end(error).
    // (Until then nothing is ever read: no message arrives on either side.)
}
//end::read[]

void Channel::deliver(std::string_view frame) {
    boost::system::error_code error;
    const boost::json::value message = boost::json::parse(frame, error);
    if (error) return malformed(error.message() + " in '" + preview(frame) + "'");
    if (!message.is_object()) return malformed("not a JSON object: '" + preview(frame) + "'");
    const auto* type = message.as_object().if_contains("type");
    if (type == nullptr || !type->is_string()) return malformed("no string \"type\": '" + preview(frame) + "'");
    handlers_.on_message(message.as_object());
}

// Writes the frame at the front of the queue, whole (async_write loops over partial writes), then the next.
//tag::write[]
void Channel::write_next() {
    // TODO(lesson 05): write outgoing_.front() whole to out_, pop it, then write the next one: never two
    // writes in flight (writing_ says one is). On an error, write_failed(). (Until then every queued
    // frame is dropped.)
    outgoing_.clear();
    writing_ = false;
    if (when_sent_) std::exchange(when_sent_, nullptr)();
}
//end::write[]

// The reader is gone (EPIPE): nothing more can be sent, but what it wrote before may still be read.
void Channel::write_failed() {
    writable_ = false;
    writing_ = false;
    outgoing_.clear();
    boost::system::error_code ignored;
    out_.close(ignored);
    if (when_sent_) std::exchange(when_sent_, nullptr)();
}

void Channel::malformed(const std::string& why) {
    open_ = false;
    handlers_.on_malformed(why);
}

void Channel::end(boost::system::error_code error) {
    open_ = false;
    handlers_.on_closed(error);
}

}  // namespace lesson05
