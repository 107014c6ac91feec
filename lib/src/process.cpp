// Boost.Process v2 helpers. See process.hpp.
#include "clusterkit/process.hpp"

#include <algorithm>
#include <string_view>

extern char** environ;

namespace clusterkit {

EnvironmentWith::EnvironmentWith(const std::vector<std::pair<std::string, std::string>>& changes) {
    for (char** entry = environ; *entry != nullptr; ++entry) {
        const std::string_view text(*entry);
        const auto name = text.substr(0, text.find('='));
        const bool changed = std::ranges::any_of(changes, [&](const auto& change) { return change.first == name; });
        if (!changed) entries_.emplace_back(text);
    }
    for (const auto& [name, value] : changes) entries_.push_back(name + "=" + value);
    for (const auto& entry : entries_) pointers_.push_back(entry.c_str());
    pointers_.push_back(nullptr);
}

}  // namespace clusterkit
