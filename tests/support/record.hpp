// The record of a test run, as data: what each test case found, and the program runs it made. The tests
// write it (listener.cpp: Catch2's events; program.cpp: each program run), the kit reads it (tools/kit:
// `kit verify`'s verdict and --timeline; the grader's results). One format, one file, no text scraping.
//
// When CLUSTERKIT_RESULT_FILE names a file, the test binary appends one JSON object per line to it as things
// happen, each with a single write(2):
//     {"record":"case","name":"..."}                                   a test case starts
//     {"record":"failure","macro":"REQUIRE","expression":...}         an assertion failed
//     {"record":"run","number":1,"command":"lesson01 --workers 3",...}  a program the test started has ended
//     {"record":"end","name":"...","passed":false,"seconds":0.41}    the test case ended
// A test binary that dies in the middle of a case leaves the lines written so far: a case without its "end"
// is one where the test program itself ended badly (read_records() says so: CaseRecord::ended).
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace clusterkit::record {

using Clock = std::chrono::steady_clock;

// The environment variable that names the record file.
inline constexpr const char* file_variable = "CLUSTERKIT_RESULT_FILE";

struct TimedLine {
    double ms = 0;  // when the test read the line, in milliseconds since the program started
    std::string text{};
};

// One program the test started (tests/support/program.hpp), from its start to its teardown.
struct ProgramRun {
    int number = 0;                // 1, 2, ... in the order the test case started them
    std::string command{};           // "lesson03 --workers 2"
    pid_t pid = 0;
    double started_ms = 0;         // since the test case started
    std::vector<TimedLine> lines{};  // its stdout, line by line
    std::size_t lines_dropped = 0; // stdout lines beyond the ones kept
    std::string stderr_text{};
    std::string ended{};             // "exited with code 0", "killed by SIGKILL", "still running when the test ended it"
    std::string left_behind{};       // the processes it left when it ended, if the test looked: "4242 (lesson01) zombie, ..."
    std::string gave_up{};           // the test's last wait on it, if it ended without what it waited for: what, how
                                     // long, why ("gave up waiting for a line on stdout after 0.4 s: nothing can ...")
};

// An INFO()/CAPTURE() message of a failed assertion. A message that held a program's transcript
// (Program::transcript(), Run::transcript()) names that run instead of repeating it: `run` is its number,
// and `text` is what the message said besides.
struct Message {
    std::string text{};
    int run = 0;  // 0: no transcript in it
};

struct Failure {
    std::string macro{};        // "REQUIRE", "CHECK_FALSE"; "" for an exception thrown outside an assertion
    std::string expression{};   // "run.status_is_code(0)"
    std::string expansion{};    // "false", "0 == 3"
    std::string message{};      // an exception's what(), FAIL()'s text, a fatal signal's name
    std::string file{};
    int line = 0;
    std::vector<std::string> sections{};  // the SECTION()s it was in, outermost first
    std::vector<Message> messages{};
    double ms = 0;            // since the test case started
};

struct CaseRecord {
    std::string name{};
    bool ended = false;       // false: the test binary died during the case (no "end" line)
    bool passed = false;
    double seconds = 0;
    std::vector<Failure> failures{};
    std::vector<ProgramRun> runs{};
};

// Reading (the kit): every test case of a record file's text, in order. Lines that are not records (the half
// line a killed binary may leave) are skipped.
std::vector<CaseRecord> read_records(std::string_view text);

// Writing (the test binary). Each does nothing unless CLUSTERKIT_RESULT_FILE is set, except that run numbers
// and transcripts are always counted, so that a message can name its run.
void case_started(std::string_view name);
void add_failure(Failure failure, const std::vector<std::string>& message_texts);
int next_run_number();  // for a program about to start
// A transcript handed to a test (for INFO()): a failure message holding it will name run `number` instead.
void note_transcript(int number, const std::string& text);
void add_run(const ProgramRun& run, Clock::time_point started);
void case_ended(std::string_view name, bool passed);

// Milliseconds from `from` to `to`.
double milliseconds(Clock::time_point from, Clock::time_point to);

}  // namespace clusterkit::record
