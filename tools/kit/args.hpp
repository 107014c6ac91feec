// The command line of one kit command, with Boost.Program_options: long options and positional words.
#pragma once

#include "commands.hpp"

#include <boost/program_options.hpp>

#include <string>

namespace clusterkit::kit {

namespace po = boost::program_options;

// Parses `args` (the words after the command word). Adds --help (HelpRequested with "usage: kit <usage>"
// and the options); any error becomes a UsageError that names the command.
po::variables_map parse_args(const Args& args, const std::string& usage, po::options_description options,
                             const po::positional_options_description& positional = {});

}  // namespace clusterkit::kit
