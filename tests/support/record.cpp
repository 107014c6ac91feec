// The record of a test run. See record.hpp.
#include "record.hpp"

#include <clusterkit/fd.hpp>

#include <boost/json.hpp>

#include <cstdlib>
#include <fcntl.h>
#include <optional>
#include <span>
#include <utility>

namespace clusterkit::record {
namespace json = boost::json;

namespace {

// What the writer knows about the test case under way.
struct Writer {
    UniqueFd file;
    Clock::time_point case_start = Clock::now();
    int runs = 0;
    std::vector<std::pair<int, std::string>> transcripts;  // handed out during this case, by run number

    Writer() {
        const char* path = std::getenv(file_variable);
        if (path && *path) file = UniqueFd(::open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
        // The programs under test inherit this environment: without the name, a graded program cannot write
        // records of its own into its report. (The first record, case_started, comes before any program runs.)
        ::unsetenv(file_variable);
    }

    // One record, one line, one write(2): a binary killed at any moment leaves whole lines behind it.
    void write(const json::object& object) {
        if (!file.is_open()) return;
        const std::string line = json::serialize(object) + '\n';
        try {
            write_all(file.get(), std::as_bytes(std::span(line)));
        } catch (const std::exception&) {
            file.reset();  // a full disk must not fail the tests themselves; the kit then sees no record
        }
    }
};

Writer& writer() {
    static Writer instance;
    return instance;
}

// A message with the transcript it holds cut out and named by its run.
Message message_of(const std::string& text, const Writer& state) {
    const std::pair<int, std::string>* found = nullptr;
    for (const auto& transcript : state.transcripts) {
        const bool contained = !transcript.second.empty() && text.find(transcript.second) != std::string::npos;
        if (contained && (!found || transcript.second.size() > found->second.size())) found = &transcript;
    }
    if (!found) return {text, 0};
    std::string rest = text;
    rest.erase(rest.find(found->second), found->second.size());
    return {rest, found->first};
}

json::array strings(const std::vector<std::string>& texts) {
    json::array array;
    for (const auto& text : texts) array.emplace_back(text);
    return array;
}

std::string text_of(const json::object& object, std::string_view key) {
    const auto* value = object.if_contains(key);
    return value && value->is_string() ? std::string(value->as_string()) : std::string();
}

double number(const json::value& value) {
    if (value.is_double()) return value.as_double();
    if (value.is_int64()) return static_cast<double>(value.as_int64());
    if (value.is_uint64()) return static_cast<double>(value.as_uint64());
    return 0;
}

double number_of(const json::object& object, std::string_view key) {
    const auto* value = object.if_contains(key);
    return value ? number(*value) : 0;
}

bool flag_of(const json::object& object, std::string_view key) {
    const auto* value = object.if_contains(key);
    return value && value->is_bool() && value->as_bool();
}

const json::array& array_of(const json::object& object, std::string_view key) {
    static const json::array empty;
    const auto* value = object.if_contains(key);
    return value && value->is_array() ? value->as_array() : empty;
}

Failure read_failure(const json::object& object) {
    Failure failure{.macro = text_of(object, "macro"),
                    .expression = text_of(object, "expression"),
                    .expansion = text_of(object, "expansion"),
                    .message = text_of(object, "message"),
                    .file = text_of(object, "file"),
                    .line = static_cast<int>(number_of(object, "line")),
                    .sections = {},
                    .messages = {},
                    .ms = number_of(object, "ms")};
    for (const auto& section : array_of(object, "sections"))
        if (section.is_string()) failure.sections.emplace_back(section.as_string());
    for (const auto& message : array_of(object, "messages"))
        if (message.is_object())
            failure.messages.push_back({text_of(message.as_object(), "text"),
                                        static_cast<int>(number_of(message.as_object(), "run"))});
    return failure;
}

ProgramRun read_run(const json::object& object) {
    ProgramRun run{.number = static_cast<int>(number_of(object, "number")),
                   .command = text_of(object, "command"),
                   .pid = static_cast<pid_t>(number_of(object, "pid")),
                   .started_ms = number_of(object, "started_ms"),
                   .lines = {},
                   .lines_dropped = static_cast<std::size_t>(number_of(object, "lines_dropped")),
                   .stderr_text = text_of(object, "stderr"),
                   .ended = text_of(object, "ended"),
                   .left_behind = text_of(object, "left_behind"),
                   .gave_up = text_of(object, "gave_up")};
    for (const auto& line : array_of(object, "lines")) {
        if (!line.is_array() || line.as_array().size() != 2 || !line.as_array()[1].is_string()) continue;
        run.lines.push_back({number(line.as_array()[0]), std::string(line.as_array()[1].as_string())});
    }
    return run;
}

}  // namespace

double milliseconds(Clock::time_point from, Clock::time_point to) {
    return std::chrono::duration<double, std::milli>(to - from).count();
}

std::vector<CaseRecord> read_records(std::string_view text) {
    std::vector<CaseRecord> cases;
    for (std::size_t at = 0; at < text.size();) {
        const auto end = std::min(text.find('\n', at), text.size());
        const auto line = text.substr(at, end - at);
        at = end + 1;
        json::error_code error;
        const auto value = json::parse(line, error);
        if (error || !value.is_object()) continue;
        const auto& object = value.as_object();
        const auto kind = text_of(object, "record");
        if (kind == "case") {
            cases.push_back(CaseRecord{.name = text_of(object, "name")});
            continue;
        }
        if (cases.empty()) continue;  // a record outside any case: not one of ours
        auto& current = cases.back();
        if (kind == "failure") current.failures.push_back(read_failure(object));
        if (kind == "run") current.runs.push_back(read_run(object));
        if (kind == "end") {
            current.ended = true;
            current.passed = flag_of(object, "passed");
            current.seconds = number_of(object, "seconds");
        }
    }
    return cases;
}

void case_started(std::string_view name) {
    auto& state = writer();
    state.case_start = Clock::now();
    state.runs = 0;
    state.transcripts.clear();
    state.write({{"record", "case"}, {"name", name}});
}

void add_failure(Failure failure, const std::vector<std::string>& message_texts) {
    auto& state = writer();
    json::array messages;
    for (const auto& text : message_texts) {
        const auto message = message_of(text, state);
        messages.push_back(json::object{{"text", message.text}, {"run", message.run}});
    }
    state.write({{"record", "failure"},
                 {"macro", failure.macro},
                 {"expression", failure.expression},
                 {"expansion", failure.expansion},
                 {"message", failure.message},
                 {"file", failure.file},
                 {"line", failure.line},
                 {"sections", strings(failure.sections)},
                 {"messages", std::move(messages)},
                 {"ms", milliseconds(state.case_start, Clock::now())}});
}

int next_run_number() { return ++writer().runs; }

void note_transcript(int number, const std::string& text) { writer().transcripts.emplace_back(number, text); }

void add_run(const ProgramRun& run, Clock::time_point started) {
    auto& state = writer();
    json::array lines;
    for (const auto& line : run.lines) lines.push_back(json::array{line.ms, line.text});
    state.write({{"record", "run"},
                 {"number", run.number},
                 {"command", run.command},
                 {"pid", run.pid},
                 {"started_ms", milliseconds(state.case_start, started)},
                 {"lines", std::move(lines)},
                 {"lines_dropped", run.lines_dropped},
                 {"stderr", run.stderr_text},
                 {"ended", run.ended},
                 {"left_behind", run.left_behind},
                 {"gave_up", run.gave_up}});
}

void case_ended(std::string_view name, bool passed) {
    auto& state = writer();
    state.write({{"record", "end"},
                 {"name", name},
                 {"passed", passed},
                 {"seconds", milliseconds(state.case_start, Clock::now()) / 1000}});
}

}  // namespace clusterkit::record
