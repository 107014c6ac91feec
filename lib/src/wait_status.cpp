// How a process ended. See wait_status.hpp.
#include "clusterkit/wait_status.hpp"

#include <cstring>
#include <sys/wait.h>

namespace clusterkit {

WaitStatus WaitStatus::from_raw(int raw_status) {
    if (WIFSIGNALED(raw_status)) return WaitStatus{.killed_by_signal = true, .signal = WTERMSIG(raw_status)};
    return WaitStatus{.code = WEXITSTATUS(raw_status)};
}

Field WaitStatus::field() const {
    return killed_by_signal ? Field("signal", signal_name(signal)) : Field("code", code);
}

std::string WaitStatus::describe() const {
    return killed_by_signal ? "killed by " + signal_name(signal) : "exited with code " + std::to_string(code);
}

std::string signal_name(int signal) {
    // sigabbrev_np() (glibc 2.32) gives "KILL" for SIGKILL, and nullptr for a number without a name.
    const char* abbreviation = sigabbrev_np(signal);
    return abbreviation ? std::string("SIG") + abbreviation : "SIG" + std::to_string(signal);
}

}  // namespace clusterkit
