// kit selftest (being written).
#include "commands.hpp"

#include <iostream>

namespace clusterkit::kit {
int command_selftest(const Args&) { std::cerr << "kit: selftest: not yet\n"; return 2; }
}  // namespace clusterkit::kit
