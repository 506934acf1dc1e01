#ifndef PRUNEBENCH_CZEROMQ_SHIM_H
#define PRUNEBENCH_CZEROMQ_SHIM_H
#include <zmq.h>
#include <sys/prctl.h>
#include <signal.h>

/// Asks the kernel to send `sig` to the calling process when its parent dies (Linux
/// PR_SET_PDEATHSIG): cluster job processes must not outlive their worker daemon. prctl is
/// variadic, which Swift cannot call, hence this wrapper. Returns 0 or -1 with errno.
static inline int prunebench_set_parent_death_signal(int sig) {
    return prctl(PR_SET_PDEATHSIG, (unsigned long)sig, 0UL, 0UL, 0UL);
}
#endif
