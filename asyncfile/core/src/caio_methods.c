/*
 * caio's raw API on a native context: submit and cancel Operation objects;
 * on the kernel-polled contexts also poll, process_events and flush.
 *
 * Relies on: lifecycle.c (context_check_usable), completion.c
 * (context_dispatch, the dispatcher thread), operation.c, arguments.c.
 */
#include "context.h"
#include "compat.h"
#include "wakeup.h"

#include <errno.h>
#include <unistd.h>

/* ---------------------------------------------------------------------------
 * Methods: caio's raw API
 */

static int
check_operations(struct context *ctx, PyObject *const *args, Py_ssize_t nargs)
{
    for (Py_ssize_t i = 0; i < nargs; i++) {
        if (!PyObject_TypeCheck(args[i], ctx->state->operation_type)) {
            PyErr_Format(PyExc_TypeError, "Operation expected, got %R", args[i]);
            return -1;
        }
    }
    return 0;
}

CONTEXT_DOC(context_submit__doc__,
"submit($self, /, *operations)\n--\n\n"
"Start the operations; return how many were accepted.\n\n"
"An operation that was submitted before is not accepted again.  When every\n"
"request slot is busy, QueueFullError is raised; the operations accepted\n"
"before it stay in flight.");

PyObject *
context_submit(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    struct context *ctx = CONTEXT(self);
    if (context_check_usable(ctx) < 0 || check_operations(ctx, args, nargs) < 0) {
        return NULL;
    }
    Py_ssize_t accepted = 0;
    bool failed = false;
    for (Py_ssize_t i = 0; i < nargs && !failed; i++) {
        if (!operation_is_new(args[i])) {
            continue;
        }
        struct request *req = operation_claim(args[i], ctx);
        if (req == NULL) {
            failed = true;
            break;
        }
        int ret = ctx->backend->start(ctx, req);
        if (ret < 0) {
            operation_unclaim(args[i]);
            request_release(ctx, req);
            raise_errno(ctx->state, -ret, req->fd);
            failed = true;
            break;
        }
        accepted++;
    }
    if (accepted > 0) {
        PyObject *exc = failed ? fetch_exception() : NULL;
        int ret = ctx->backend->flush(ctx);
        if (ret >= 0 && ensure_dispatcher(ctx) < 0) {
            ret = -1;
            PyErr_Clear();
        }
        if (exc != NULL) {
            restore_exception(exc);
        }
    }
    if (failed) {
        return NULL;
    }
    return PyLong_FromSsize_t(accepted);
}

CONTEXT_DOC(context_cancel__doc__,
"cancel($self, /, *operations)\n--\n\n"
"Cancel operations that have not started; return how many were.\n\n"
"A cancelled operation completes with ECANCELED.");

PyObject *
context_cancel(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    struct context *ctx = CONTEXT(self);
    if (context_check_usable(ctx) < 0 || check_operations(ctx, args, nargs) < 0) {
        return NULL;
    }
    for (Py_ssize_t i = 0; i < nargs; i++) {
        struct request *req = operation_request(args[i]);
        if (req != NULL && req->ctx != ctx) {
            PyErr_Format(PyExc_ValueError,
                         "%R was submitted through another context", args[i]);
            return NULL;
        }
    }
    Py_ssize_t cancelled = 0;
    for (Py_ssize_t i = 0; i < nargs; i++) {
        struct request *req = operation_request(args[i]);
        if (req != NULL && ctx->backend->cancel(ctx, req)) {
            cancelled++;
        }
    }
    return PyLong_FromSsize_t(cancelled);
}

#ifndef ASYNCFILE_PORTABLE
/* The kernel-polled contexts' methods (io_uring, Linux AIO). */

CONTEXT_DOC(context_poll__doc__,
"poll($self, /)\n--\n\n"
"Read and reset the eventfd's counter: how many completions were signalled.\n"
"Raises BlockingIOError when there were none.");

PyObject *
context_poll(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    struct context *ctx = CONTEXT(self);
    if (context_check_usable(ctx) < 0) {
        return NULL;
    }
    uint64_t count;
    ssize_t ret;
    do {
        ret = read(ctx->eventfd, &count, sizeof(count));
    } while (ret < 0 && errno == EINTR);
    if (ret < 0) {
        return PyErr_SetFromErrno(PyExc_OSError);
    }
    return PyLong_FromUnsignedLongLong(count);
}

CONTEXT_DOC(context_process_events__doc__,
"process_events($self, /, max_requests=512, min_requests=0, timeout=0)\n--\n\n"
"Deliver up to max_requests completions, first waiting up to timeout seconds\n"
"(forever if negative) for at least min_requests; return how many.");

static PyObject *
context_process_events_impl(struct context *ctx, int max_requests, int min_requests,
                            double timeout)
{
    if (context_check_usable(ctx) < 0) {
        return NULL;
    }
    if (min_requests > max_requests) {
        return PyErr_Format(PyExc_ValueError,
                            "min_requests (%d) cannot exceed max_requests (%d)",
                            min_requests, max_requests);
    }
    if (max_requests <= 0) {
        return PyLong_FromLong(0);
    }
    int64_t timeout_ns = timeout < 0 ? -1 : (int64_t)(timeout * 1e9);
    int ret = ctx->backend->reap(ctx, min_requests, timeout_ns);
    if (ret < 0) {
        if (PyErr_Occurred()) {
            return NULL;
        }
        return raise_os_error(-ret);
    }
    int count = context_dispatch(ctx, max_requests);
    if (PyErr_Occurred()) {
        return NULL;
    }
    return PyLong_FromLong(count);
}

PyObject *
context_process_events(PyObject *self, PyObject *const *args, Py_ssize_t nargs,
                       PyObject *kwnames)
{
    static const char *const keywords[] = {"max_requests", "min_requests", "timeout"};
    PyObject *return_value = NULL;
    PyObject *argsbuf[3];
    int max_requests = 512, min_requests = 0;
    double timeout = 0;

    if (unpack_keywords("process_events", args, nargs, kwnames, keywords, 0, 3,
                        argsbuf) < 0 ||
        (argsbuf[0] != NULL && !int_converter(argsbuf[0], &max_requests)) ||
        (argsbuf[1] != NULL && !int_converter(argsbuf[1], &min_requests)) ||
        (argsbuf[2] != NULL && !double_converter(argsbuf[2], &timeout))) {
        goto exit;
    }
    return_value =
        context_process_events_impl(CONTEXT(self), max_requests, min_requests, timeout);

exit:
    return return_value;
}

CONTEXT_DOC(context_flush__doc__,
"flush($self, /)\n--\n\n"
"Hand the queued operations to the kernel; return how many.");

PyObject *
context_flush(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    struct context *ctx = CONTEXT(self);
    if (context_check_usable(ctx) < 0) {
        return NULL;
    }
    int ret = ctx->backend->flush(ctx);
    if (ret < 0) {
        return raise_os_error(-ret);
    }
    return PyLong_FromLong(ret);
}

#endif /* ASYNCFILE_PORTABLE */
