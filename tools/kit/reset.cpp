// kit reset (being written).
#include "commands.hpp"

#include <iostream>

namespace clusterkit::kit {
int command_reset(const Args&) { std::cerr << "kit: reset: not yet\n"; return 2; }
}  // namespace clusterkit::kit
