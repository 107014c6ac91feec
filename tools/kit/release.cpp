// kit release: not written yet (engineer G owns this file).
#include "commands.hpp"

#include <iostream>

namespace clusterkit::kit {
int command_release(const Args&) { std::cerr << "kit: release: not yet\n"; return 2; }
}  // namespace clusterkit::kit
