// kit run (being written).
#include "commands.hpp"

#include <iostream>

namespace clusterkit::kit {
int command_run(const Args&) { std::cerr << "kit: run: not yet\n"; return 2; }
}  // namespace clusterkit::kit
