// How a process ended, as waitpid(2) reports it, in the words of the event lines.
//
// A process either exits with a code (exit(3), return from main) or is killed by a signal. The two must
// not be confused: exit(9) and SIGKILL are different stories, though some libraries report both as 9.
#pragma once

#include "clusterkit/events.hpp"

#include <string>

namespace clusterkit {

struct WaitStatus {
    bool killed_by_signal = false;
    int code = 0;    // the exit code, when !killed_by_signal
    int signal = 0;  // the signal number, when killed_by_signal

    // From the status word that waitpid(2) fills in.
    static WaitStatus from_raw(int raw_status);

    // The event field that tells how the process ended: code=C or signal=SIGNAME.
    Field field() const;
    // "exited with code 3" or "killed by SIGKILL", for messages meant for people.
    std::string describe() const;
};

// "SIGKILL" for SIGKILL; "SIG42" for a signal without a name.
std::string signal_name(int signal);

}  // namespace clusterkit
