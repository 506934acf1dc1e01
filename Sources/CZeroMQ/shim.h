#ifndef PRUNEBENCH_CZEROMQ_SHIM_H
#define PRUNEBENCH_CZEROMQ_SHIM_H
#include <zmq.h>
#endif
