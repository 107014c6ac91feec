// kit verify (being written).
#include "commands.hpp"

#include <iostream>

namespace clusterkit::kit {
int command_verify(const Args&) { std::cerr << "kit: verify: not yet\n"; return 2; }
}  // namespace clusterkit::kit
