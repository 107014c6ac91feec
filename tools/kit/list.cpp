// kit list (being written).
#include "commands.hpp"

#include <iostream>

namespace clusterkit::kit {
int command_list(const Args&) { std::cerr << "kit: list: not yet\n"; return 2; }
}  // namespace clusterkit::kit
