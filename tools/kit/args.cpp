// The command line of one kit command. See args.hpp.
#include "args.hpp"

#include <clusterkit/errors.hpp>

#include <sstream>

namespace clusterkit::kit {

po::variables_map parse_args(const Args& args, const std::string& usage, po::options_description options,
                             const po::positional_options_description& positional) {
    options.add_options()("help,h", "show this help");
    po::variables_map values;
    try {
        po::store(po::command_line_parser(args).options(options).positional(positional).run(), values);
        po::notify(values);
    } catch (const po::error& error) {
        throw UsageError(std::string(error.what()) + " (usage: ./kit " + usage + ")");
    }
    if (values.count("help")) {
        std::ostringstream text;
        text << "usage: ./kit " << usage << "\n\n" << options;
        throw HelpRequested(text.str());
    }
    return values;
}

}  // namespace clusterkit::kit
