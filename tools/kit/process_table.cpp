// See process_table.hpp.
#include "process_table.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <thread>

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
    for (int round = 0; round < 250; ++round) {
        bool left = false;
        for (const auto& entry : process_table()) {
            if (!in_session(entry)) continue;
            if (entry.pid == session) {
                kill_if(entry.pid, in_session);  // the leader: its launcher waits for it
            } else if (entry.ppid == ::getpid()) {
                // Came back to us (a subreaper), so its pid cannot be reused before this waitpid.
                if (entry.state != 'Z') ::kill(entry.pid, SIGKILL);
                ::waitpid(entry.pid, nullptr, 0);
            } else {
                left = true;
                if (entry.state != 'Z') kill_if(entry.pid, in_session);
            }
        }
        if (!left) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));  // a dying process's parent reaps it
    }
}

}  // namespace clusterkit::kit
