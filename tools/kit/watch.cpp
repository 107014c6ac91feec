// kit watch (being written).
#include "commands.hpp"

#include <iostream>

namespace clusterkit::kit {
int command_watch(const Args&) { std::cerr << "kit: watch: not yet\n"; return 2; }
}  // namespace clusterkit::kit
