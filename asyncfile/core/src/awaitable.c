/*
 * The awaitable entry points of a native context: aread, areadinto, awrite,
 * afsync, afdsync return call.c's coroutine; read_cached answers a page-cache
 * hit at once, without one.
 *
 * Relies on: call.c (call_new), submission.c (the inline path),
 * loopbinding.c (context_serves_running_loop), arguments.c (the parsers).
 */
#include "context.h"
#include "compat.h"

#include <errno.h>

/* Each method is in the shape Argument Clinic generates: a thin parser
 * (METH_FASTCALL or METH_O, positional-only, with arguments.c's converters)
 * that calls its *_impl with C values, one exit label, and a docstring
 * carrying __text_signature__. */

/* The parser aread and read_cached share: (nbytes, fd, offset=0, /). */
static PyObject *
sized_read(PyObject *self, PyObject *const *args, Py_ssize_t nargs, const char *name,
           PyObject *(*impl)(struct context *, size_t, int, uint64_t))
{
    PyObject *return_value = NULL;
    size_t nbytes;
    int fd;
    uint64_t offset = 0;

    if (check_positional(name, nargs, 2, 3) < 0 || !size_converter(args[0], &nbytes) ||
        !fd_converter(args[1], &fd) ||
        (nargs > 2 && !offset_converter(args[2], &offset))) {
        goto exit;
    }
    return_value = impl(CONTEXT(self), nbytes, fd, offset);

exit:
    return return_value;
}

CONTEXT_DOC(context_aread__doc__,
"aread($self, nbytes, fd, offset=0, /)\n--\n\n"
"Awaitable read of up to nbytes at offset; its value is the bytes read.");

static PyObject *
context_aread_impl(struct context *ctx, size_t nbytes, int fd, uint64_t offset)
{
    if (nbytes > (size_t)PY_SSIZE_T_MAX) {
        return PyErr_Format(PyExc_OverflowError, "cannot read %zu bytes at once",
                            nbytes);
    }
    return call_new(ctx, OP_READ, fd, offset, nbytes, NULL);
}

PyObject *
context_aread(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    return sized_read(self, args, nargs, "aread", context_aread_impl);
}

CONTEXT_DOC(context_read_cached__doc__,
"read_cached($self, nbytes, fd, offset=0, /)\n--\n\n"
"The bytes at offset (up to nbytes, fewer only at the end of the file) if\n"
"the page cache holds them and the running loop, the context's, may take\n"
"them now; False when the loop must run first (this turn's inline budget is\n"
"spent: ask again after a loop turn); None when reading them would wait, or\n"
"cannot be done here, so that the caller awaits aread instead.");

static PyObject *
context_read_cached_impl(struct context *ctx, size_t nbytes, int fd, uint64_t offset)
{
    /* Whatever cannot be answered at once (a closed or forked context, one
     * bound to another loop than the running one, no free slot) is aread's
     * to handle or report; a spent budget only waits for the loop's turn. */
    if (nbytes > INLINE_MAX) {
        Py_RETURN_NONE;
    }
    int serving = context_serves_running_loop(ctx);
    if (serving <= 0) {
        return serving < 0 ? NULL : Py_NewRef(Py_None);
    }
    /* A stale answer shows as EINVAL, answered None: aread confirms it. */
    bool remembered;
    if (context_fd_is_direct(ctx, fd, &remembered)) {
        Py_RETURN_NONE; /* O_DIRECT reads wait for the device: aread's */
    }
    if (ctx->budget_spent) {
        /* A loop turn resets the budget: a yield costs less than aread. */
        Py_RETURN_FALSE;
    }
    struct request *req = request_acquire(ctx);
    if (req == NULL) {
        Py_RETURN_NONE;
    }
    if (request_fill(req, OP_READ, fd, offset, nbytes, NULL) < 0) {
        request_release(ctx, req);
        return NULL;
    }
    PyObject *value = Py_None;
    if (complete_inline(req) && req->result != -EINVAL) {
        struct call_outcome out = {0};
        value = inline_outcome(ctx, req, &out) < 0 ? NULL : out.value;
        if (out.error != NULL) {
            PyErr_SetObject((PyObject *)Py_TYPE(out.error), out.error);
            Py_DECREF(out.error);
        }
    }
    else {
        Py_INCREF(value);
    }
    request_release(ctx, req);
    return value;
}

PyObject *
context_read_cached(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    return sized_read(self, args, nargs, "read_cached", context_read_cached_impl);
}

/* The parser areadinto and awrite share: (buffer, fd, offset=0, /).  The
 * buffer stays an object here: the request takes its view when the operation
 * starts, and holds it until the operation completes. */
static PyObject *
buffer_awaitable(PyObject *self, PyObject *const *args, Py_ssize_t nargs,
                 enum opcode opcode, const char *name)
{
    PyObject *return_value = NULL;
    int fd;
    uint64_t offset = 0;

    if (check_positional(name, nargs, 2, 3) < 0) {
        goto exit;
    }
    if (!fd_converter(args[1], &fd)) {
        goto exit;
    }
    if (nargs > 2 && !offset_converter(args[2], &offset)) {
        goto exit;
    }
    return_value = call_new(CONTEXT(self), opcode, fd, offset, 0, args[0]);

exit:
    return return_value;
}

CONTEXT_DOC(context_areadinto__doc__,
"areadinto($self, buffer, fd, offset=0, /)\n--\n\n"
"Awaitable read into a writable buffer; its value is the count read.");

PyObject *
context_areadinto(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    return buffer_awaitable(self, args, nargs, OP_READINTO, "areadinto");
}

CONTEXT_DOC(context_awrite__doc__,
"awrite($self, buffer, fd, offset=0, /)\n--\n\n"
"Awaitable write of a contiguous buffer; its value is the count written.");

PyObject *
context_awrite(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    return buffer_awaitable(self, args, nargs, OP_WRITE, "awrite");
}

/* The parser afsync and afdsync share: (fd, /), METH_O. */
static PyObject *
sync_awaitable(PyObject *self, PyObject *arg, enum opcode opcode)
{
    PyObject *return_value = NULL;
    int fd;

    if (!fd_converter(arg, &fd)) {
        goto exit;
    }
    return_value = call_new(CONTEXT(self), opcode, fd, 0, 0, NULL);

exit:
    return return_value;
}

CONTEXT_DOC(context_afsync__doc__,
"afsync($self, fd, /)\n--\n\n"
"Awaitable fsync(fd).");

PyObject *
context_afsync(PyObject *self, PyObject *fd)
{
    return sync_awaitable(self, fd, OP_FSYNC);
}

CONTEXT_DOC(context_afdsync__doc__,
"afdsync($self, fd, /)\n--\n\n"
"Awaitable fdatasync(fd).");

PyObject *
context_afdsync(PyObject *self, PyObject *fd)
{
    return sync_awaitable(self, fd, OP_FDSYNC);
}
