// Lesson 05: the channel, Node's IPC channel in C++. One Channel joins two processes: messages go out on
// one pipe and come in on another, both directions at once, without blocking either side.
//
// Frames are newline-delimited JSON, as Node's default 'json' serialization sends them: one message is
// one JSON object on one line. Boost.JSON never writes a raw newline (it escapes "\n" inside strings), so
// the first '\n' always ends the frame. The two halves of the lesson:
//   - reading: a pipe hands over whatever bytes are there (a 1 MiB message comes in pieces of up to 64 KiB,
//     two small messages may come in one piece), so bytes are collected until a newline: async_read_until;
//   - writing: a write may take a part of the frame only, so async_write loops until the frame is written,
//     and the frames waiting behind it stay in a queue: never two writes in flight on one pipe.
//
//     auto channel = Channel::create(std::move(in), std::move(out));
//     channel->start({.on_message = ..., .on_malformed = ..., .on_closed = ...});
//     channel->send(boost::json::object{{"type", "shutdown"}});
//
// Header-only, for both programs of the lesson (and bench/messages). Boost.JSON is compiled: exactly one
// .cpp file of each program includes <boost/json/src.hpp>.
#pragma once

#include <boost/asio/read_until.hpp>
#include <boost/asio/readable_pipe.hpp>
#include <boost/asio/writable_pipe.hpp>
#include <boost/asio/write.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
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
    static std::shared_ptr<Channel> create(boost::asio::readable_pipe in, boost::asio::writable_pipe out) {
        return std::shared_ptr<Channel>(new Channel(std::move(in), std::move(out)));
    }

    // Starts reading; handlers run in the io_context's thread, one message at a time, in order.
    void start(Handlers handlers) {
        handlers_ = std::move(handlers);
        read_next();
    }

    // Queues a message; it goes out after every message queued before it. Node's worker.send().
    void send(const boost::json::value& message) { send_line(boost::json::serialize(message)); }

    // Queues one frame as it is (without its newline). send() uses it; tests use it to send a broken frame.
    //tag::send[]
    void send_line(std::string line) {
        if (!open_ || !writable_) return;
        outgoing_.push_back(std::move(line) + '\n');
        if (!writing_) write_next();
    }
    //end::send[]

    // Calls `then` once every queued message has been written (at once if none is waiting).
    void when_sent(std::function<void()> then) {
        when_sent_ = std::move(then);
        if (!writing_) write_next();
    }

    // Closes both pipes: no handler is called after this.
    void close() {
        open_ = false;
        boost::system::error_code ignored;
        in_.close(ignored);
        out_.close(ignored);
        outgoing_.clear();
    }

    bool is_open() const { return open_; }

private:
    Channel(boost::asio::readable_pipe in, boost::asio::writable_pipe out) : in_(std::move(in)), out_(std::move(out)) {}

    // Reads until the next newline; the bytes after it stay in input_ for the next frame.
    //tag::read[]
    void read_next() {
        boost::asio::async_read_until(in_, boost::asio::dynamic_buffer(input_, max_frame_bytes), '\n',
            [self = shared_from_this()](boost::system::error_code error, std::size_t length) {
                if (!self->open_) return;
                if (error == boost::asio::error::not_found)
                    return self->malformed("a frame longer than " + std::to_string(max_frame_bytes) + " bytes");
                if (error) return self->end(error);
                const std::string frame = self->input_.substr(0, length - 1);  // without its newline
                self->input_.erase(0, length);
                self->deliver(frame);
                if (self->open_) self->read_next();
            });
    }
    //end::read[]

    void deliver(std::string_view frame) {
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
    void write_next() {
        if (outgoing_.empty()) {
            writing_ = false;
            if (when_sent_) std::exchange(when_sent_, nullptr)();
            return;
        }
        writing_ = true;
        boost::asio::async_write(out_, boost::asio::buffer(outgoing_.front()),
            [self = shared_from_this()](boost::system::error_code error, std::size_t) {
                if (!self->open_) return;
                if (error) return self->write_failed();
                self->outgoing_.pop_front();
                self->write_next();
            });
    }
    //end::write[]

    // The reader is gone (EPIPE): nothing more can be sent, but what it wrote before may still be read.
    void write_failed() {
        writable_ = false;
        writing_ = false;
        outgoing_.clear();
        boost::system::error_code ignored;
        out_.close(ignored);
        if (when_sent_) std::exchange(when_sent_, nullptr)();
    }

    void malformed(const std::string& why) {
        open_ = false;
        handlers_.on_malformed(why);
    }

    void end(boost::system::error_code error) {
        open_ = false;
        handlers_.on_closed(error);
    }

    // The start of a frame, printable, for an error message on one line.
    static std::string preview(std::string_view frame) {
        std::string text;
        for (const char c : frame.substr(0, 40)) text += (c >= ' ' && c <= '~') ? c : '?';
        if (frame.size() > 40) text += "...";
        return text;
    }

    boost::asio::readable_pipe in_;
    boost::asio::writable_pipe out_;
    std::string input_;                 // bytes read and not yet delivered: part of a frame, or several frames
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
