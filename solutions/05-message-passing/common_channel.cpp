// Lesson 05: the channel's code. See channel.hpp for what a Channel is; lessons/05-message-passing/README.md
// for why it reads and writes the way it does. Compiled into both programs: a file named common_*.cpp is.
#include "channel.hpp"

#include <boost/asio/write.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serializer.hpp>

#include <algorithm>

namespace lesson05 {

namespace {

// The most one read takes: what a pipe holds (64 KiB on Linux), so a read empties a full pipe.
constexpr std::size_t read_size = 64 * 1024;

// The length of `value` as JSON if no string in it needs an escape (a number counted at its longest).
std::size_t unescaped_json_length(const boost::json::value& value);

std::size_t unescaped_json_length(const boost::json::object& object) {
    std::size_t length = 2;  // {}
    for (const auto& field : object) length += field.key().size() + 4 + unescaped_json_length(field.value());
    return length;
}

std::size_t unescaped_json_length(const boost::json::value& value) {
    if (value.is_string()) return value.get_string().size() + 2;
    if (value.is_object()) return unescaped_json_length(value.get_object());
    std::size_t length = 24;  // a number, true, false or null at its longest; an array's brackets
    if (value.is_array())
        for (const auto& element : value.get_array()) length += 1 + unescaped_json_length(element);
    return length;
}

// The message as one frame: its JSON and a newline. Not boost::json::serialize(), which starts with a 4 KiB
// buffer: Boost.JSON's serializer copies a string 16 bytes at a time only while the buffer has room for the
// rest of it, and once the buffer runs out in the middle, it goes on byte by byte (12 times the instructions
// for a 1 MiB payload). So it gets room for the whole frame at once, and more only if escapes need it.
std::string frame_of(const boost::json::object& message) {
    boost::json::serializer serializer;
    serializer.reset(&message);
    std::string frame(unescaped_json_length(message) + 1, '\0');
    std::size_t length = 0;
    for (;;) {
        length += serializer.read(frame.data() + length, frame.size() - length).size();
        if (serializer.done()) break;
        frame.resize(2 * frame.size());
    }
    frame.resize(length);
    frame += '\n';
    return frame;
}

}  // namespace

std::shared_ptr<Channel> Channel::create(boost::asio::readable_pipe in, boost::asio::writable_pipe out) {
    return std::shared_ptr<Channel>(new Channel(std::move(in), std::move(out)));
}

Channel::Channel(boost::asio::readable_pipe in, boost::asio::writable_pipe out)
    : in_(std::move(in)), out_(std::move(out)) {}

void Channel::start(Handlers handlers) {
    handlers_ = std::move(handlers);
    read_next();
}

void Channel::send(const boost::json::object& message) { queue(frame_of(message)); }

void Channel::send_line(std::string line) { queue(std::move(line) + '\n'); }

//tag::send[]
void Channel::queue(std::string frame) {
    if (!open_ || !writable_) return;
    outgoing_.push_back(std::move(frame));
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

// Reads what the pipe holds (part of a frame, or several frames) into input_, then cuts the whole frames out of it.
//tag::read[]
void Channel::read_next() {
    in_.async_read_some(input_.prepare(read_size),  // room at the end of input_, read into in place
        [self = shared_from_this()](boost::system::error_code error, std::size_t size) {
            if (!self->open_) return;
            if (error) return self->end(error);  // end-of-file too: the other side is gone
            self->input_.commit(size);           // the bytes read join input_'s data
            self->deliver_whole_frames();
            if (self->open_) self->read_next();
        });
}

// Each frame that input_ holds whole goes to deliver(), in order; the start of the next one stays. A frame that
// comes in pieces is searched for its newline piece by piece (searched_), never again from its beginning.
void Channel::deliver_whole_frames() {
    const std::string_view input(static_cast<const char*>(input_.data().data()), input_.size());  // not a copy
    std::size_t start = 0;  // where the next frame begins in input
    while (open_) {
        const auto newline = input.find('\n', std::max(start, searched_));
        if (newline == std::string_view::npos) break;
        deliver(input.substr(start, newline - start));  // without its newline
        start = newline + 1;
    }
    input_.consume(start);
    searched_ = input_.size();  // what is left holds no newline
    if (open_ && input_.size() > max_frame_bytes)
        malformed("a frame longer than " + std::to_string(max_frame_bytes) + " bytes");
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
