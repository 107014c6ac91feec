// Event lines: how every ClusterKit program reports what happens (the format is in docs/event-lines.md).
//
// One event is one line on stdout, named after Node's cluster events:
//     fork id=1 pid=4242
// The line is written with a single write(2), never through a stdio buffer. That matters for multi-process
// programs: lines from several processes sharing one stdout never interleave (a write to a pipe of at most
// PIPE_BUF bytes is atomic), and fork() has no half-full buffer to copy into the child.
#pragma once

#include <concepts>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace clusterkit {

// One `key=value` pair of an event line. Values are single tokens: no spaces, no '=' in the key.
struct Field {
    Field(std::string_view key, std::string_view value);
    Field(std::string_view key, const char* value) : Field(key, std::string_view{value}) {}
    Field(std::string_view key, const std::string& value) : Field(key, std::string_view{value}) {}
    template <std::integral Number>
    Field(std::string_view key, Number value) : Field(key, std::string_view{std::to_string(value)}) {}

    std::string key;
    std::string value;
};

// "name key=value ...", without the newline. Throws std::invalid_argument for a name or field that
// would not read back as the same event.
std::string format_event(std::string_view name, const std::vector<Field>& fields);

// Writes one event line to stdout in a single write(2). Safe to call in a forked child.
void emit(std::string_view name, std::initializer_list<Field> fields = {});
void emit(std::string_view name, const std::vector<Field>& fields);

// An event line read back, as the tests and `kit` see it.
struct Event {
    std::string name;
    std::vector<std::pair<std::string, std::string>> fields;  // in the order they were written

    bool has(std::string_view key) const;
    // The value of `key`; throws std::out_of_range naming the key and the line when it is missing.
    const std::string& text(std::string_view key) const;
    // The value of `key` as an integer; throws std::invalid_argument when it is not one.
    long long number(std::string_view key) const;
    std::string to_string() const;

    // Parses "name key=value ..."; std::nullopt for a line that is not an event (free text, a blank line).
    static std::optional<Event> parse(std::string_view line);
};

}  // namespace clusterkit
