// Boost.Process v2, as every ClusterKit program and test includes it. Include this, not Boost's headers.
//
// Boost 1.81 or newer (docs/boost-process-1.81.md: what changed in 1.82, 1.86 and 1.88, and the traps):
// - Paths are std::filesystem::path on every version: BOOST_PROCESS_USE_STD_FS, defined by the kit's CMake for
//   every target. In 1.81 that mode forgets includes of its own (boost::optional, boost::remove_pointer,
//   <type_traits>): they come first.
// - Up to 1.85 Boost.Process v2 is header-only here. From 1.86 it is a compiled library (Boost::process,
//   linked by the kit's CMake), built by default with boost::filesystem paths. What the kit's code calls in
//   it takes no path (close_all, error categories, the environment), so it links and works either way; the few functions with a path in their signature (process_environment, and ext::exe and ext::cwd,
//   whose path is only in the return type, so a mismatch would not even fail to link) must not be used.
// - Never include boost/process/v2/src.hpp (1.81 to 1.85: it does not compile in 1.81; gone in 1.86)
//   or boost/process/v2/ext/*.hpp.
// The initializers below are checked at compile time against the launcher of the Boost found (end of file):
// a hook whose signature the launcher does not recognise would otherwise be skipped without a word.
// asio::detail::throw_error comes first too: Asio's headers declare it only in header-only mode, and Boost.Process
// v2 1.81's launcher needs it, and Debug builds compile Asio once in the kit library (BOOST_ASIO_SEPARATE_COMPILATION,
// lib/src/asio.cpp).
#pragma once

#ifndef BOOST_PROCESS_USE_STD_FS
#error "BOOST_PROCESS_USE_STD_FS must be defined (target_link_libraries(... clusterkit::kit) does it)"
#endif

#include <boost/version.hpp>
static_assert(BOOST_VERSION >= 108100, "ClusterKit needs Boost 1.81 or newer (Boost.Process v2 as in 1.81)");

#include <boost/asio/detail/throw_error.hpp>
#include <boost/optional.hpp>
#include <boost/type_traits/remove_pointer.hpp>
#include <type_traits>

#include <boost/process/v2/environment.hpp>
#include <boost/process/v2/process.hpp>
#include <boost/process/v2/stdio.hpp>

#include "clusterkit/errors.hpp"

#include <algorithm>
#include <cerrno>
#include <concepts>
#include <fcntl.h>
#include <csignal>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <utility>
#include <vector>

namespace clusterkit {

// A Boost.Process v2 initializer: the child leads a process group of its own, so that one kill(-pid, ...)
// reaches it and everything it starts, and a Ctrl-C in the terminal reaches the parent only (the parent
// decides what to stop). The kit and the tests start the programs they watch this way.
struct OwnProcessGroup {
    template <typename Launcher>
    boost::system::error_code on_exec_setup(Launcher&, const std::filesystem::path&, const char* const*&) const {
        if (::setpgid(0, 0) != 0) return {errno, boost::system::system_category()};
        return {};
    }
};

// In the child, after fork: closes every descriptor between two that the launcher keeps (`kept`: 0, 1, 2, the
// targets, its own error pipe). Boost.Process 1.81 to 1.85 close only those above the highest one kept
// (boostorg/process#360, fixed in 1.86), so a descriptor without close-on-exec leaks into every child: the
// listening socket of an Asio acceptor (a worker would keep the primary's copy of a socket open), or the
// child's own end of the stdin pipe that process_stdio makes (a worker that closes its stdin would still hold
// the pipe open, and the primary's writes would never fail with EPIPE).
// Sorts `kept` in place, as the launcher does: no allocation between fork and exec.
inline void close_unkept_descriptors(std::vector<int>& kept) {
    std::sort(kept.begin(), kept.end());
    for (std::size_t i = 0; i + 1 < kept.size(); ++i)
        if (kept[i + 1] > kept[i] + 1)
            ::close_range(static_cast<unsigned>(kept[i] + 1), static_cast<unsigned>(kept[i + 1] - 1), 0);
}

// A Boost.Process v2 initializer: the child gets `fd` as its descriptor `target` (a pipe, a socket, a
// listening socket), and nothing else beyond its standard streams (close_unkept_descriptors): give it after
// process_stdio, whose descriptors are in place by then. Boost's posix::bind_fd places a descriptor too, but
// in 1.81 its on_setup() has no return statement (undefined behaviour: a garbage error code, or worse when
// optimised; fixed in 1.83).
struct BindFd {
    int target;
    int fd;

    template <typename Launcher>
    boost::system::error_code on_setup(Launcher& launcher, const std::filesystem::path&, const char* const*) const {
        launcher.fd_whitelist.push_back(target);  // Boost.Process closes every other descriptor in the child
        return {};
    }
    template <typename Launcher>
    boost::system::error_code on_exec_setup(Launcher& launcher, const std::filesystem::path&, const char* const*&) const {
        if (auto error = place()) return error;
        close_unkept_descriptors(launcher.fd_whitelist);
        return {};
    }
    // In the child: `fd` becomes `target`. dup2 clears close-on-exec on the copy; when fd is already target,
    // clear it by hand.
    boost::system::error_code place() const {
        const int result = fd == target ? ::fcntl(target, F_SETFD, 0) : ::dup2(fd, target);
        if (result == -1) return {errno, boost::system::system_category()};
        return {};
    }
};

// BindFd for a list of descriptors decided at run time (Boost.Process takes initializers as a fixed list). Once
// every descriptor is in place, the others are closed (close_unkept_descriptors): the child gets these and
// its standard streams, and nothing else.
struct BindFds {
    mutable std::vector<BindFd> fds;

    template <typename Launcher>
    boost::system::error_code on_setup(Launcher& launcher, const std::filesystem::path& exe, const char* const* argv) const {
        for (const auto& fd : fds)
            if (auto error = fd.on_setup(launcher, exe, argv)) return error;
        return {};
    }
    template <typename Launcher>
    boost::system::error_code on_exec_setup(Launcher& launcher, const std::filesystem::path&, const char* const*&) const {
        // A source that is also another binding's target would be overwritten before its turn: first move every
        // such source above all the targets (in the child, whose copy of `fds` this is: hence mutable).
        int highest = 0;
        for (const auto& fd : fds) highest = std::max(highest, fd.target);
        for (auto& fd : fds) {
            if (fd.fd > highest || fd.fd == fd.target) continue;
            fd.fd = ::fcntl(fd.fd, F_DUPFD_CLOEXEC, highest + 1);
            if (fd.fd == -1) return {errno, boost::system::system_category()};
        }
        for (const auto& fd : fds)
            if (auto error = fd.place()) return error;
        close_unkept_descriptors(launcher.fd_whitelist);
        return {};
    }
};

// A Boost.Process v2 initializer: when the child's execve fails, Boost up to 1.87 returns the error but leaves
// that child unreaped, a zombie: reap it. Up to 1.87 the launcher looks for an on_error with five arguments but
// calls it with four, hence the second declaration (never called). From 1.88 Boost reaps the child itself and
// calls four-argument hooks: this one then does nothing (the pid may already be someone else's).
struct ReapFailedChild {
    template <typename Launcher>
    void on_error(Launcher& launcher, const std::filesystem::path&, const char* const*&,
                  const boost::system::error_code&) const {
#if BOOST_VERSION < 108800
        if (launcher.pid <= 0) return;  // the fork itself failed: no child
        while (::waitpid(launcher.pid, nullptr, 0) == -1 && errno == EINTR) {
        }
#else
        (void)launcher;
#endif
    }
    template <typename Launcher>
    void on_error(Launcher&, const boost::system::error_code&, const std::filesystem::path&, const char* const*&,
                  const boost::system::error_code&) const;
};

// A Boost.Process v2 initializer: runs `setup` (if set) in the child between fork and exec, so only
// async-signal-safe calls (lesson 08 sets a memory limit there). False from it, with errno set, fails the start.
struct RunInChild {
    const std::function<bool()>& setup;

    template <typename Launcher>
    boost::system::error_code on_exec_setup(Launcher&, const std::filesystem::path&, const char* const*&) const {
        if (setup && !setup()) return {errno, boost::system::system_category()};
        return {};
    }
};

// A Boost.Process v2 initializer: the child gets this process's environment with some variables set,
// as Node's cluster.fork() passes NODE_UNIQUE_ID. (Boost's process_environment replaces the whole
// environment instead, and does not link in a header-only build, nor with std::filesystem paths against a
// library built with boost::filesystem ones: docs/boost-process-1.81.md.)
//
//     bp::process worker(ctx, path, args, clusterkit::EnvironmentWith({{"CLUSTERKIT_WORKER_ID", "3"}}));
class EnvironmentWith {
public:
    explicit EnvironmentWith(const std::vector<std::pair<std::string, std::string>>& changes);
    // A list written in place, as above. (Without it, one pair of two string literals would also read as the
    // vector's constructor from two iterators: an ambiguous call.)
    explicit EnvironmentWith(std::initializer_list<std::pair<std::string, std::string>> changes)
        : EnvironmentWith(std::vector<std::pair<std::string, std::string>>(changes)) {}

    template <typename Launcher>
    boost::system::error_code on_setup(Launcher& launcher, const std::filesystem::path&, const char* const*) const {
        launcher.env = pointers_.data();
        return {};
    }

private:
    std::vector<std::string> entries_;     // "NAME=value"
    std::vector<const char*> pointers_;   // into entries_, ending in nullptr, as execve(2) wants
};

// Boost.Process's launcher calls an initializer's hook only if this very call compiles (its detection in
// posix/default_launcher.hpp, the same from 1.81 to 1.88); otherwise it skips the hook silently. Checked here,
// with the launcher's own path type, so that a change in a later Boost is a compile error, not a worker that
// quietly outlives its primary.
// The hooks are const, so that a const initializer is not skipped either.
namespace detail {
template <typename Init>
concept LauncherCallsOnSetup =
    requires(const Init& init, boost::process::v2::posix::default_launcher& launcher,
             const boost::process::v2::filesystem::path& exe, const char* const*& argv) {
        { init.on_setup(launcher, exe, argv) } -> std::convertible_to<boost::system::error_code>;
    };
template <typename Init>
concept LauncherCallsOnExecSetup =
    requires(const Init& init, boost::process::v2::posix::default_launcher& launcher,
             const boost::process::v2::filesystem::path& exe, const char* const*& argv) {
        { init.on_exec_setup(launcher, exe, argv) } -> std::convertible_to<boost::system::error_code>;
    };
}  // namespace detail

static_assert(detail::LauncherCallsOnSetup<BindFd> && detail::LauncherCallsOnExecSetup<BindFd>);
static_assert(detail::LauncherCallsOnSetup<BindFds> && detail::LauncherCallsOnExecSetup<BindFds>);
static_assert(detail::LauncherCallsOnSetup<EnvironmentWith>);
static_assert(detail::LauncherCallsOnExecSetup<RunInChild>);

}  // namespace clusterkit
