// kit hint (being written).
#include "commands.hpp"

#include <iostream>

namespace clusterkit::kit {
int command_hint(const Args&) { std::cerr << "kit: hint: not yet\n"; return 2; }
}  // namespace clusterkit::kit
