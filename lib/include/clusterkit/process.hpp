// Boost.Process v2, as every ClusterKit program and test includes it. Include this, not Boost's headers.
//
// Boost 1.81 ships Boost.Process v2 header-only; its paths are boost::filesystem (a compiled library)
// unless BOOST_PROCESS_USE_STD_FS is defined, which the kit's CMake does for every target. In 1.81 that
// mode forgets includes of its own (boost::optional, boost::remove_pointer, <type_traits>): they come first.
// Never include boost/process/v2/src.hpp: it does not compile in 1.81.
#pragma once

#ifndef BOOST_PROCESS_USE_STD_FS
#error "BOOST_PROCESS_USE_STD_FS must be defined (target_link_libraries(... clusterkit::kit) does it)"
#endif

#include <boost/optional.hpp>
#include <boost/type_traits/remove_pointer.hpp>
#include <type_traits>

#include <boost/process/v2/environment.hpp>
#include <boost/process/v2/process.hpp>
#include <boost/process/v2/stdio.hpp>

#include "clusterkit/errors.hpp"

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <csignal>
#include <filesystem>
#include <string>
#include <sys/prctl.h>
#include <unistd.h>
#include <utility>
#include <vector>

namespace clusterkit {

// A Boost.Process v2 initializer (lesson 03's answer, provided from lesson 04 on): the kernel sends the
// child SIGKILL when the process that started it dies, so a primary killed with SIGKILL leaves no orphan.
// If that process died before prctl() ran, the child's parent is already someone else: it gives up at once.
// The signal is tied to the *thread* that forked: start workers from a thread that lives as long as the primary.
struct DieWithParent {
    pid_t parent = ::getpid();

    template <typename Launcher>
    boost::system::error_code on_exec_setup(Launcher&, const std::filesystem::path&, const char* const*&) {
        if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != parent) ::_exit(exit_status::failure);
        return {};
    }
};

// A Boost.Process v2 initializer: the child gets `fd` as its descriptor `target` (a pipe, a socket, a
// listening socket). Boost's posix::bind_fd does this too, but in 1.81 its on_setup() has no return
// statement (undefined behaviour: a garbage error code, or worse when optimised).
struct BindFd {
    int target;
    int fd;

    template <typename Launcher>
    boost::system::error_code on_setup(Launcher& launcher, const std::filesystem::path&, const char* const*) {
        launcher.fd_whitelist.push_back(target);  // Boost.Process closes every other descriptor in the child
        return {};
    }
    template <typename Launcher>
    boost::system::error_code on_exec_setup(Launcher&, const std::filesystem::path&, const char* const*&) {
        // dup2 clears close-on-exec on the copy; when fd is already target, clear it by hand.
        const int result = fd == target ? ::fcntl(target, F_SETFD, 0) : ::dup2(fd, target);
        if (result == -1) return {errno, boost::system::system_category()};
        return {};
    }
};

// In the child, after fork: closes every descriptor between two that the launcher keeps (`kept`: 0, 1, 2, the
// targets, its own error pipe). Boost.Process 1.81 to 1.85 close only those above the highest one kept
// (boostorg/process#360, fixed in 1.86), so a descriptor without close-on-exec, such as the listening socket
// of an Asio acceptor, leaks into every child: a worker would keep the primary's copy of a socket open.
// Sorts `kept` in place, as the launcher does: no allocation between fork and exec.
inline void close_unkept_descriptors(std::vector<int>& kept) {
    std::sort(kept.begin(), kept.end());
    for (std::size_t i = 0; i + 1 < kept.size(); ++i)
        if (kept[i + 1] > kept[i] + 1)
            ::close_range(static_cast<unsigned>(kept[i] + 1), static_cast<unsigned>(kept[i + 1] - 1), 0);
}

// BindFd for a list of descriptors decided at run time (Boost.Process takes initializers as a fixed list). Once
// every descriptor is in place, the others are closed (close_unkept_descriptors): the child gets these and
// its standard streams, and nothing else.
struct BindFds {
    std::vector<BindFd> fds;

    template <typename Launcher>
    boost::system::error_code on_setup(Launcher& launcher, const std::filesystem::path& exe, const char* const* argv) {
        for (auto& fd : fds)
            if (auto error = fd.on_setup(launcher, exe, argv)) return error;
        return {};
    }
    template <typename Launcher>
    boost::system::error_code on_exec_setup(Launcher& launcher, const std::filesystem::path& exe, const char* const*& argv) {
        for (auto& fd : fds)
            if (auto error = fd.on_exec_setup(launcher, exe, argv)) return error;
        close_unkept_descriptors(launcher.fd_whitelist);
        return {};
    }
};

// A Boost.Process v2 initializer: the child gets this process's environment with some variables set,
// as Node's cluster.fork() passes NODE_UNIQUE_ID. (Boost's process_environment replaces the whole
// environment instead, and in a 1.81 header-only build its setup function is never compiled.)
//
//     bp::process worker(ctx, path, args, clusterkit::EnvironmentWith({{"CLUSTERKIT_WORKER_ID", "3"}}));
class EnvironmentWith {
public:
    explicit EnvironmentWith(const std::vector<std::pair<std::string, std::string>>& changes);

    template <typename Launcher>
    boost::system::error_code on_setup(Launcher& launcher, const std::filesystem::path&, const char* const*) {
        launcher.env = pointers_.data();
        return {};
    }

private:
    std::vector<std::string> entries_;     // "NAME=value"
    std::vector<const char*> pointers_;   // into entries_, ending in nullptr, as execve(2) wants
};

}  // namespace clusterkit
