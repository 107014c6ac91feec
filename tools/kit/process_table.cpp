// See process_table.hpp.
#include "process_table.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace clusterkit::kit {
namespace fs = std::filesystem;

std::optional<ProcessEntry> read_process(pid_t pid) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    if (!status) return std::nullopt;
    ProcessEntry entry{.pid = pid};
    bool have_uid = false;
    for (std::string line; std::getline(status, line);) {
        std::istringstream fields(line.substr(line.find(':') + 1));
        if (line.starts_with("State:")) fields >> entry.state;
        else if (line.starts_with("PPid:")) fields >> entry.ppid;
        else if (line.starts_with("NSsid:")) fields >> entry.session;
        else if (line.starts_with("Uid:")) have_uid = static_cast<bool>(fields >> entry.uid);
    }
    if (!have_uid) return std::nullopt;
    return entry;
}

std::vector<ProcessEntry> process_table() {
    std::vector<ProcessEntry> table;
    std::error_code error;
    for (const auto& entry : fs::directory_iterator("/proc", error)) {
        const auto name = entry.path().filename().string();
        if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
        if (auto process = read_process(static_cast<pid_t>(std::stol(name)))) table.push_back(*process);
    }
    return table;
}

void kill_session(pid_t session) {
    if (session <= 1) return;
    const auto in_session = [session](const ProcessEntry& entry) { return entry.session == session; };
    // A killed process shows as alive until it has died: the sweeps end once none is left to signal (at most
    // a few; the bound only guards against a session that forks faster than it is swept).
    for (int sweep = 0; sweep < 100; ++sweep) {
        bool signalled = false;
        for (const auto& entry : process_table())
            if (entry.state != 'Z' && in_session(entry) && kill_if(entry.pid, in_session)) signalled = true;
        if (!signalled) return;
    }
}

}  // namespace clusterkit::kit
