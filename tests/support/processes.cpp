// The process table from /proc. See processes.hpp.
#include "processes.hpp"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string_view>
#include <stdexcept>
#include <sys/prctl.h>
#include <csignal>
#include <system_error>
#include <unistd.h>

namespace clusterkit::testing {
namespace {

// /proc/<pid>/stat is "pid (command) state ppid pgrp ...". The command may hold spaces and parentheses,
// so it ends at the last ')'.
std::optional<ProcessInfo> read_stat(const std::filesystem::path& stat_file) {
    std::ifstream in(stat_file);
    std::string line;
    if (!std::getline(in, line)) return std::nullopt;  // the process ended while we looked
    const auto open = line.find('(');
    const auto close = line.rfind(')');
    if (open == std::string::npos || close == std::string::npos || close < open) return std::nullopt;
    ProcessInfo info;
    info.command = line.substr(open + 1, close - open - 1);
    std::istringstream head(line.substr(0, open));
    std::istringstream tail(line.substr(close + 1));
    if (!(head >> info.pid) || !(tail >> info.state >> info.ppid >> info.pgid)) return std::nullopt;
    return info;
}

bool is_number(const std::string& name) {
    return !name.empty() && std::ranges::all_of(name, [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

std::string ProcessInfo::describe() const {
    std::string text = std::to_string(pid) + " (" + command + ")";
    text += is_zombie() ? " zombie" : std::string(" state ") + state;
    return text + ", parent " + std::to_string(ppid);
}

std::vector<ProcessInfo> process_table() {
    std::vector<ProcessInfo> table;
    std::error_code ignored;
    for (const auto& entry : std::filesystem::directory_iterator("/proc", ignored)) {
        if (!is_number(entry.path().filename().string())) continue;
        if (auto info = read_stat(entry.path() / "stat")) table.push_back(*info);
    }
    return table;
}

std::vector<ProcessInfo> descendants_of(pid_t pid) { return descendants_of(pid, {}); }

std::vector<ProcessInfo> descendants_of(pid_t pid, const std::set<pid_t>& excluded) {
    const auto table = process_table();
    std::vector<ProcessInfo> found;
    std::vector<pid_t> parents{pid};
    while (!parents.empty()) {
        const pid_t parent = parents.back();
        parents.pop_back();
        for (const auto& process : table) {
            if (process.ppid != parent || excluded.contains(process.pid)) continue;
            found.push_back(process);
            parents.push_back(process.pid);
        }
    }
    return found;
}

std::vector<ProcessInfo> live_descendants_of(pid_t pid) {
    auto found = descendants_of(pid);
    std::erase_if(found, [](const ProcessInfo& process) { return process.is_zombie(); });
    return found;
}

bool signal_descendant(pid_t pid, int signal) {
    if (pid <= 1) return false;
    const auto descendants = live_descendants_of(::getpid());
    const bool ours = std::ranges::any_of(descendants, [&](const ProcessInfo& process) { return process.pid == pid; });
    return ours && ::kill(pid, signal) == 0;
}

void become_subreaper() {
    if (::prctl(PR_SET_CHILD_SUBREAPER, 1) != 0)
        throw std::system_error(errno, std::generic_category(), "prctl(PR_SET_CHILD_SUBREAPER)");
}

std::string describe(const std::vector<ProcessInfo>& processes) {
    std::string text;
    for (std::size_t i = 0; i < processes.size(); ++i) {
        if (i > 0) text += i + 1 == processes.size() ? " and " : ", ";
        text += processes[i].describe();
    }
    return text.empty() ? "none" : text;
}

char process_state(pid_t pid) {
    const auto info = read_stat("/proc/" + std::to_string(pid) + "/stat");
    return info ? info->state : '\0';
}

long long cpu_time_ns(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/schedstat");
    long long ns = -1;
    return in >> ns ? ns : -1;
}

std::string listening_socket(unsigned short port) {
    constexpr std::string_view listen_state = "0A";  // TCP_LISTEN, as /proc/net/tcp writes it
    for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
        std::ifstream in(table);
        std::string line;
        std::getline(in, line);  // the column names
        while (std::getline(in, line)) {
            // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
            std::istringstream fields(line);
            std::string slot, local, remote, state, queues, timer, retransmits, uid, timeout, inode;
            if (!(fields >> slot >> local >> remote >> state >> queues >> timer >> retransmits >> uid >> timeout >> inode))
                continue;
            const auto colon = local.rfind(':');
            if (state != listen_state || colon == std::string::npos) continue;
            if (std::stoul(local.substr(colon + 1), nullptr, 16) == port) return "socket:[" + inode + "]";
        }
    }
    return {};
}

bool has_descriptor(pid_t pid, const std::string& target) {
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", error)) {
        std::error_code unreadable;  // a descriptor closed while we look
        if (std::filesystem::read_symlink(entry.path(), unreadable).string() == target) return true;
    }
    return false;
}

}  // namespace clusterkit::testing
