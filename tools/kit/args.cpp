// The command line of one kit command. See args.hpp.
#include "args.hpp"

#include <clusterkit/errors.hpp>

#include <sstream>

namespace clusterkit::kit {

namespace {

// Stores what `parse` makes of the command line, with the kit's --help and its errors.
po::variables_map parsed(const std::string& usage, po::options_description& options,
                         const std::function<po::parsed_options()>& parse) {
    po::variables_map values;
    try {
        po::store(parse(), values);
        if (values.count("help")) {
            std::ostringstream text;
            text << "usage: ./kit " << usage << "\n\n" << options;
            throw HelpRequested(text.str());
        }
        po::notify(values);
    } catch (const po::error& error) {
        throw UsageError(std::string(error.what()) + " (usage: ./kit " + usage + ")");
    }
    return values;
}

}  // namespace

po::variables_map parse_args(const Args& args, const std::string& usage, po::options_description options,
                             const po::positional_options_description& positional) {
    options.add_options()("help,h", "show this help");
    return parsed(usage, options, [&] { return po::command_line_parser(args).options(options).positional(positional).run(); });
}

po::options_description lesson_check_options() {
    po::options_description options("options");
    options.add_options()
        ("lesson", po::value<std::string>(), "the lesson: 01, 1 or 01-fork-per-cpu (default: the first not passing)")
        ("all", "run every check, not only up to the first failing one");
    return options;
}

po::positional_options_description lesson_word() {
    po::positional_options_description positional;
    positional.add("lesson", 1);
    return positional;
}

po::variables_map parse_args_and_rest(const Args& args, const std::string& usage, po::options_description options,
                                      std::vector<std::string>& rest) {
    options.add_options()("help,h", "show this help");
    return parsed(usage, options, [&] {
        auto result = po::command_line_parser(args).options(options).allow_unregistered().run();
        rest = po::collect_unrecognized(result.options, po::include_positional);
        return result;
    });
}

}  // namespace clusterkit::kit
