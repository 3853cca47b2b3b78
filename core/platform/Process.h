#pragma once
// Whether a process id still names a running process (signal 0 delivers nothing; EPERM means it
// exists under another user). Locks, claims and temporaries of ended processes are taken over with it.
#include <signal.h>
#include <sys/types.h>

#include <cerrno>

namespace bg {

inline bool processExists(long pid) { return pid > 0 && !(::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH); }

}  // namespace bg
