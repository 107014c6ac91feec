// Lesson 05: the channel, Node's IPC channel in C++. One Channel joins two processes: messages go out on
// one pipe and come in on another, both directions at once, without blocking either side.
//
// Frames are newline-delimited JSON, as Node's default 'json' serialization sends them: one message is
// one JSON object on one line. Boost.JSON never writes a raw newline (it escapes "\n" inside strings), so
// the first '\n' always ends the frame. The two halves of the lesson:
//   - reading: a pipe hands over whatever bytes are there (a 1 MiB message comes in pieces of up to 64 KiB,
//     two small messages may come in one piece), so bytes are collected in input_, and each newline in it ends
//     a frame; what follows the last newline waits there for the rest of its frame. input_ is an
//     asio::streambuf: a read goes straight into its free space, so no byte is copied on its way to a frame;
//   - writing: a write may take a part of the frame only, so async_write loops until the frame is written,
//     and the frames waiting behind it stay in a queue: never two writes in flight on one pipe.
//
//     auto channel = Channel::create(std::move(in), std::move(out));
//     channel->start({.on_message = ..., .on_malformed = ..., .on_closed = ...});
//     channel->send(boost::json::object{{"type", "shutdown"}});
//
// Declared here, defined in common_channel.cpp, which is compiled into both programs of the lesson (and
// bench/messages): a file named common_*.cpp is. Boost.JSON's compiled part is in the kit's library.
#pragma once

#include <boost/asio/readable_pipe.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/writable_pipe.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace lesson05 {

// A frame longer than this is refused as malformed, so a worker cannot make the primary buffer forever.
inline constexpr std::size_t max_frame_bytes = 16 * 1024 * 1024;

class Channel : public std::enable_shared_from_this<Channel> {
public:
    struct Handlers {
        // A whole message: a JSON object with a string "type". What its other fields mean is the receiver's.
        std::function<void(const boost::json::object&)> on_message;
        // A frame that is not such a message, why in a few words; the channel reads no further.
        std::function<void(const std::string& why)> on_malformed;
        // End-of-file or a read error: the other side is gone. Messages read before it were delivered.
        std::function<void(boost::system::error_code)> on_closed;
    };

    // `in` carries messages to this process, `out` from it. A shared_ptr: pending operations keep it alive.
    static std::shared_ptr<Channel> create(boost::asio::readable_pipe in, boost::asio::writable_pipe out);

    // Starts reading; handlers run in the io_context's thread, one message at a time, in order.
    void start(Handlers handlers);

    // Queues a message; it goes out after every message queued before it. Node's worker.send(). An object, as
    // on_message receives: a message passed on, or a json::object built in place, is serialized without a copy.
    void send(const boost::json::object& message);

    // Queues one frame as it is (without its newline). send() uses it; tests use it to send a broken frame.
    void send_line(std::string line);

    // Calls `then` once every queued message has been written (at once if none is waiting).
    void when_sent(std::function<void()> then);

    // Closes both pipes: no handler is called after this.
    void close();

    bool is_open() const { return open_; }

private:
    Channel(boost::asio::readable_pipe in, boost::asio::writable_pipe out);

    void queue(std::string frame);              // a whole frame, newline included, behind the others
    void read_next();                           // reads what the pipe holds into input_
    void deliver_whole_frames();                // cuts the frames out of input_; the rest stays there
    void deliver(std::string_view frame);       // a frame to on_message, or malformed()
    void write_next();                          // writes the front frame whole, then the next one
    void write_failed();                        // the reader is gone: send nothing more
    void malformed(const std::string& why);     // stops reading, calls on_malformed
    void end(boost::system::error_code error);  // stops reading, calls on_closed

    boost::asio::readable_pipe in_;
    boost::asio::writable_pipe out_;
    boost::asio::streambuf input_;      // bytes read and not yet delivered: part of a frame, or several frames
    std::size_t searched_ = 0;          // input_ holds no newline before this position
    std::deque<std::string> outgoing_;  // frames waiting; while writing_, front() is the one being written
    bool writing_ = false;
    bool writable_ = true;
    bool open_ = true;
    Handlers handlers_;
    std::function<void()> when_sent_;
};

// A field of a message as an integer, or std::nullopt when it is missing or not an integer.
inline std::optional<std::int64_t> integer_field(const boost::json::object& message, std::string_view key) {
    const auto* value = message.if_contains(key);
    if (value == nullptr) return std::nullopt;
    if (value->is_int64()) return value->as_int64();
    if (value->is_uint64() && value->as_uint64() <= INT64_MAX) return static_cast<std::int64_t>(value->as_uint64());
    return std::nullopt;
}

inline std::optional<std::string_view> string_field(const boost::json::object& message, std::string_view key) {
    const auto* value = message.if_contains(key);
    if (value == nullptr || !value->is_string()) return std::nullopt;
    return std::string_view(value->as_string());
}

}  // namespace lesson05
