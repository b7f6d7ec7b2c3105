/*
 * Declarations shared by the files a native context is made of, one concern
 * each.  Every file relies only on the files below it here, through this
 * header and core.h, never on one above it:
 *
 *   context.c       the three types: creation, close, properties, GC, specs
 *   caio_methods.c  caio's raw API: submit, cancel, poll, process_events, flush
 *   awaitable.c     the awaitable entry points (aread, read_cached, ...): they
 *                   return call.c's coroutine
 *   call.c          the coroutine, whose first step calls context_start
 *   loopbinding.c   bind, on_ready, the end of a loop turn, and the one
 *                   "serves the running loop" predicate
 *   submission.c    starting an awaitable operation: the inline path,
 *                   batching, operations waiting for a slot
 *   lifecycle.c     opening, rebuilding after fork, tearing down
 *   completion.c    delivering completions; the dispatcher thread
 *   forks.c         the fork counter and this process's pid
 */
#ifndef ASYNCFILE_CONTEXT_H
#define ASYNCFILE_CONTEXT_H

#include "core.h"

#include <errno.h>

/* A method's docstring, defined where the method is and referenced from
 * context.c's method tables. */
#define CONTEXT_DOC(name, text) const char name[] = PyDoc_STR(text)

static inline PyObject *
raise_os_error(int code)
{
    errno = code;
    return PyErr_SetFromErrno(PyExc_OSError);
}

/* forks.c */
/* getpid(), noted at start and in each child, for asking without a call. */
extern pid_t aio_pid;
/* Install the fork handler (once per process) and fork_generation(). */
int forks_module_init(PyObject *module);

/* completion.c */
/* Start the thread that runs caio's callbacks when no loop is bound. */
int ensure_dispatcher(struct context *ctx);

/* lifecycle.c */
int context_open(struct context *ctx);
/* Every method starts here: closed contexts refuse, forked ones rebuild. */
int context_check_usable(struct context *ctx);
void context_teardown(struct context *ctx, bool run_callbacks);

/* submission.c */
bool complete_inline(struct request *req);
bool context_fd_is_direct(struct context *ctx, int fd, bool *remembered);
int schedule_end_of_turn(struct context *ctx);
int inline_outcome(struct context *ctx, struct request *req, struct call_outcome *out);
int request_fill(struct request *req, enum opcode opcode, int fd, uint64_t offset,
                 size_t nbytes, PyObject *buffer);
void start_overflow(struct context *ctx);

/* The methods context.c's tables list (aread, areadinto, awrite: core.h). */
#define CONTEXT_METHOD_DECLARE(name, ...)                                            \
    PyObject *context_##name(PyObject *self, __VA_ARGS__);                           \
    extern const char context_##name##__doc__[]

/* caio_methods.c */
CONTEXT_METHOD_DECLARE(submit, PyObject *const *args, Py_ssize_t nargs);
CONTEXT_METHOD_DECLARE(cancel, PyObject *const *args, Py_ssize_t nargs);
#ifndef ASYNCFILE_PORTABLE
CONTEXT_METHOD_DECLARE(poll, PyObject *ignored);
CONTEXT_METHOD_DECLARE(process_events, PyObject *const *args, Py_ssize_t nargs,
                       PyObject *kwnames);
CONTEXT_METHOD_DECLARE(flush, PyObject *ignored);
#endif

/* loopbinding.c */
int loopbinding_module_init(PyObject *module);
CONTEXT_METHOD_DECLARE(bind, PyObject *loop);
CONTEXT_METHOD_DECLARE(on_ready, PyObject *ignored);
extern const char context_serves_running_loop__doc__[];
PyObject *context_end_turn(PyObject *self, PyObject *ignored);
PyObject *context_serves_running_loop_method(PyObject *self, PyObject *ignored);

/* awaitable.c */
extern const char context_aread__doc__[];
extern const char context_areadinto__doc__[];
extern const char context_awrite__doc__[];
CONTEXT_METHOD_DECLARE(read_cached, PyObject *const *args, Py_ssize_t nargs);
CONTEXT_METHOD_DECLARE(afsync, PyObject *fd);
CONTEXT_METHOD_DECLARE(afdsync, PyObject *fd);

#endif /* ASYNCFILE_CONTEXT_H */
