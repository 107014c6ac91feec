// Command lines. See cli.hpp.
#include "clusterkit/cli.hpp"

#include "clusterkit/errors.hpp"

#include <charconv>
#include <sstream>
#include <string>

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

int positive_count(const program_options::variables_map& values, std::string_view option) {
    const std::string name(option);
    const std::string text = values[name].as<std::string>();
    int count = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), count);
    if (error != std::errc{} || end != text.data() + text.size() || count < 1)
        throw UsageError("--" + name + " wants a whole number of at least 1, not '" + text + "'");
    return count;
}

}  // namespace clusterkit
