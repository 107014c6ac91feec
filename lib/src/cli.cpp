// Command lines. See cli.hpp.
#include "clusterkit/cli.hpp"

#include "clusterkit/errors.hpp"

#include <algorithm>
#include <charconv>
#include <sstream>
#include <string>
#include <utility>

namespace clusterkit {

program_options::variables_map parse_command_line(int argc, const char* const argv[], std::string_view usage,
                                                  program_options::options_description options) {
    namespace style = program_options::command_line_style;
    options.add_options()("help", "print this help and exit");
    program_options::variables_map values;
    const program_options::positional_options_description no_positional_arguments;
    try {
        program_options::store(program_options::command_line_parser(argc, argv)
                                   .options(options)
                                   .positional(no_positional_arguments)
                                   .style(style::allow_long | style::long_allow_next | style::long_allow_adjacent)
                                   .run(),
                               values);
        if (values.count("help")) {
            std::ostringstream help;
            help << "usage: " << usage << '\n' << options;
            throw HelpRequested(help.str());
        }
        program_options::notify(values);
    } catch (const program_options::error& error) {
        throw UsageError(error.what());
    }
    return values;
}

program_options::variables_map parse_command_line(int argc, const char* const argv[], std::string_view usage,
                                                  std::initializer_list<AddOptions> parts) {
    program_options::options_description options("options");
    for (const auto add_options : parts) add_options(options);
    return parse_command_line(argc, argv, usage, std::move(options));
}

CommandLine parse_command_line_and_rest(int argc, const char* const argv[], std::string_view usage,
                                        program_options::options_description options) {
    const auto end = std::find(argv, argv + argc, std::string_view("--"));
    CommandLine command_line{parse_command_line(static_cast<int>(end - argv), argv, usage, std::move(options)), {}};
    if (end != argv + argc) command_line.rest.assign(end + 1, argv + argc);
    return command_line;
}

std::optional<int> parse_whole_number(std::string_view text) {
    int number = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), number);
    if (error != std::errc{} || end != text.data() + text.size()) return std::nullopt;
    return number;
}

std::optional<Range> parse_range(std::string_view text) {
    const auto dash = text.find('-');
    if (dash == std::string_view::npos) return std::nullopt;
    const auto min = parse_whole_number(text.substr(0, dash));
    const auto max = parse_whole_number(text.substr(dash + 1));
    if (!min || !max || *min < 0 || *max < *min) return std::nullopt;
    return Range{*min, *max};
}

int number_option(const program_options::variables_map& values, std::string_view option, int min, int max) {
    const std::string name(option);
    const std::string text = values[name].as<std::string>();
    const auto number = parse_whole_number(text);
    if (!number || *number < min || *number > max) {
        std::string wanted = "a whole number of at least " + std::to_string(min);
        if (max != std::numeric_limits<int>::max()) wanted += " and at most " + std::to_string(max);
        throw UsageError("--" + name + " wants " + wanted + ", not '" + text + "'");
    }
    return *number;
}

int positive_count(const program_options::variables_map& values, std::string_view option) {
    return number_option(values, option, 1);
}

}  // namespace clusterkit
