// Command lines, with Boost.Program_options: the kit's flags are long options ("--workers 3").
//
// parse_command_line() turns every Boost.Program_options error into a UsageError (exit status 2), so a
// wrong flag is one clear line: "lesson01: error: unrecognised option '--wrokers'".
#pragma once

#include <boost/program_options.hpp>

#include <initializer_list>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace clusterkit {

namespace program_options = boost::program_options;

// Parses long options only, so that "--workers -3" reaches the option as the value "-3" and is
// rejected as a negative count rather than read as a flag. Adds --help, which throws HelpRequested with
// "usage: <usage>" and the options' descriptions (run_main() prints it and exits 0).
program_options::variables_map parse_command_line(int argc, const char* const argv[], std::string_view usage,
                                                  program_options::options_description options);

// The same for a program built from several parts that each declare their own options: every function in
// `parts` adds its part's to one description, in order (`{lesson06::add_options, lesson07::add_options}`).
using AddOptions = void (*)(program_options::options_description&);
program_options::variables_map parse_command_line(int argc, const char* const argv[], std::string_view usage,
                                                  std::initializer_list<AddOptions> parts);

// A command line with the words after "--" kept apart, for programs that pass them on to their workers
// (`lesson02 --workers 2 -- --verbose input.txt`). Only the words before "--" are options.
struct CommandLine {
    program_options::variables_map options;
    std::vector<std::string> rest;  // after the first "--", untouched
};
CommandLine parse_command_line_and_rest(int argc, const char* const argv[], std::string_view usage,
                                        program_options::options_description options);

// "42" -> 42; std::nullopt for anything else ("", "4x", " 4", "+4", out of range).
std::optional<int> parse_whole_number(std::string_view text);

// "MIN-MAX" with 0 <= MIN <= MAX, such as lesson02's --work-ms 1000-6000; std::nullopt otherwise.
struct Range {
    int min = 0;
    int max = 0;
};
std::optional<Range> parse_range(std::string_view text);

// The value of an integer option (stored as a std::string); throws UsageError naming the option unless it
// is a whole number in [min, max].
int number_option(const program_options::variables_map& values, std::string_view option, int min,
                  int max = std::numeric_limits<int>::max());

// The value of a count option (such as --workers); throws UsageError unless it is at least 1.
int positive_count(const program_options::variables_map& values, std::string_view option);

}  // namespace clusterkit
