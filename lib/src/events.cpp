// Event lines: formatting, writing and parsing. See events.hpp and docs/event-lines.md.
#include "clusterkit/events.hpp"

#include "clusterkit/fd.hpp"

#include <algorithm>
#include <charconv>
#include <cctype>
#include <span>
#include <stdexcept>
#include <unistd.h>

namespace clusterkit {
namespace {

bool is_token(std::string_view text) {
    return !text.empty() && std::ranges::none_of(text, [](unsigned char c) { return std::isspace(c); });
}

bool is_name(std::string_view text) {
    return !text.empty() && std::isalpha(static_cast<unsigned char>(text.front())) &&
           std::ranges::all_of(text, [](unsigned char c) { return std::isalnum(c) || c == '-' || c == '_'; });
}

std::vector<std::string_view> split_on_spaces(std::string_view line) {
    std::vector<std::string_view> words;
    while (!line.empty()) {
        const auto start = line.find_first_not_of(' ');
        if (start == std::string_view::npos) break;
        line.remove_prefix(start);
        const auto end = std::min(line.find(' '), line.size());
        words.push_back(line.substr(0, end));
        line.remove_prefix(end);
    }
    return words;
}

}  // namespace

Field::Field(std::string_view key, std::string_view value) : key(key), value(value) {}

std::string format_event(std::string_view name, const std::vector<Field>& fields) {
    if (!is_name(name)) throw std::invalid_argument("event name is not a word: '" + std::string(name) + "'");
    std::string line(name);
    for (const auto& [key, value] : fields) {
        if (!is_name(key)) throw std::invalid_argument("event field name is not a word: '" + key + "'");
        if (!is_token(value)) throw std::invalid_argument("event field " + key + " has an empty or spaced value");
        line += ' ';
        line += key;
        line += '=';
        line += value;
    }
    return line;
}

void emit(std::string_view name, std::initializer_list<Field> fields) {
    emit(name, std::vector<Field>(fields));
}

void emit(std::string_view name, const std::vector<Field>& fields) {
    const std::string line = format_event(name, fields) + '\n';
    write_all(STDOUT_FILENO, std::as_bytes(std::span(line)));
}

bool Event::has(std::string_view key) const {
    return std::ranges::any_of(fields, [&](const auto& field) { return field.first == key; });
}

const std::string& Event::text(std::string_view key) const {
    const auto found = std::ranges::find_if(fields, [&](const auto& field) { return field.first == key; });
    if (found == fields.end())
        throw std::out_of_range("event has no field '" + std::string(key) + "': " + to_string());
    return found->second;
}

long long Event::number(std::string_view key) const {
    const std::string& value = text(key);
    long long result = 0;
    const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), result);
    if (error != std::errc{} || end != value.data() + value.size())
        throw std::invalid_argument("event field '" + std::string(key) + "' is not a number: " + to_string());
    return result;
}

std::string Event::to_string() const {
    std::string line = name;
    for (const auto& [key, value] : fields) line += ' ' + key + '=' + value;
    return line;
}

std::optional<Event> Event::parse(std::string_view line) {
    if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
    const auto words = split_on_spaces(line);
    if (words.empty() || !is_name(words.front())) return std::nullopt;
    Event event{std::string(words.front()), {}};
    for (const auto word : std::span(words).subspan(1)) {
        const auto equals = word.find('=');
        if (equals == std::string_view::npos || !is_name(word.substr(0, equals))) return std::nullopt;
        event.fields.emplace_back(word.substr(0, equals), word.substr(equals + 1));
    }
    return event;
}

}  // namespace clusterkit
