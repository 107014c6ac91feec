// The command line of one kit command, with Boost.Program_options: the kit's one parser. Long options and
// positional words; `kit run` also passes the words that are not its own on to a program.
#pragma once

#include "commands.hpp"

#include <boost/program_options.hpp>

#include <string>
#include <vector>

namespace clusterkit::kit {

namespace po = boost::program_options;

// Parses `args` (the words after the command word). Adds --help (HelpRequested with "usage: kit <usage>"
// and the options); any error becomes a UsageError that names the usage.
po::variables_map parse_args(const Args& args, const std::string& usage, po::options_description options,
                             const po::positional_options_description& positional = {});

// What the commands that check a lesson share (verify, watch): the lesson as an optional first word, and --all.
po::options_description lesson_check_options();
po::positional_options_description lesson_word();

// The same for a command that runs a program with words of its own (`kit run 01 --workers 3`): every word
// that is not one of `options`, in order, and everything after "--", goes to `rest`.
po::variables_map parse_args_and_rest(const Args& args, const std::string& usage, po::options_description options,
                                      std::vector<std::string>& rest);

}  // namespace clusterkit::kit
