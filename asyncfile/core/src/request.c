/*
 * Requests: the preallocated slots, running one with blocking system calls,
 * and turning a finished one into its Python value or error.
 */
#include "core.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

struct request *
request_acquire(struct context *ctx)
{
    struct request *req = ctx->free;
    if (req == NULL) {
        return NULL;
    }
    ctx->free = req->next;
    req->next = NULL;
    req->ctx = ctx;
    req->state = REQ_QUEUED;
    req->done = 0;
    req->result = 0;
    req->via_pool = false;
    req->cancelled = false;
    req->bytes = NULL;
    req->data = NULL;
    req->has_view = false;
    req->owner = NULL;
    req->owner_is_future = false;
    ctx->in_flight++;
    return req;
}

void
request_drop_references(struct request *req)
{
    if (req->has_view) {
        PyBuffer_Release(&req->view);
        req->has_view = false;
    }
    Py_CLEAR(req->bytes);
    Py_CLEAR(req->owner);
    req->data = NULL;
}

void
request_release(struct context *ctx, struct request *req)
{
    request_drop_references(req);
    req->state = REQ_FREE;
    req->next = ctx->free;
    ctx->free = req;
    ctx->in_flight--;
}

/* One positional transfer of up to CHUNK_MAX bytes at the request's progress. */
static ssize_t
transfer_chunk(struct request *req, int rw_flags)
{
    size_t remaining = req->nbytes - req->done;
    struct iovec iov = {
        .iov_base = req->data + req->done,
        .iov_len = remaining < CHUNK_MAX ? remaining : CHUNK_MAX,
    };
    off_t offset = (off_t)(req->offset + req->done);
    if (req->opcode == OP_WRITE) {
        return pwritev2(req->fd, &iov, 1, offset, rw_flags);
    }
    return preadv2(req->fd, &iov, 1, offset, rw_flags);
}

int
request_perform(struct request *req, int rw_flags)
{
    int ret;
    switch (req->opcode) {
    case OP_FSYNC:
    case OP_FDSYNC:
        do {
            ret = req->opcode == OP_FSYNC ? fsync(req->fd) : fdatasync(req->fd);
        } while (ret < 0 && errno == EINTR);
        req->result = ret < 0 ? -errno : 0;
        return 0;
    case OP_READ:
    case OP_READINTO:
    case OP_WRITE:
        break;
    }
    while (req->done < req->nbytes) {
        ssize_t count = transfer_chunk(req, rw_flags);
        if (count < 0 && errno == EINTR) {
            continue;
        }
        if (count < 0) {
            int error = errno;
            req->result = -error;
            if ((rw_flags & RWF_NOWAIT) && (error == EAGAIN || error == EOPNOTSUPP)) {
                return -error; /* would block: req->done says how far it got */
            }
            /* Report what was transferred before the error, as write(2) does. */
            if (req->done > 0) {
                req->result = (int64_t)req->done;
            }
            return 0;
        }
        if (count == 0) {
            break; /* end of file */
        }
        req->done += (size_t)count;
    }
    req->result = (int64_t)req->done;
    return 0;
}

PyObject *
raise_errno(aio_state *state, int code, int fd)
{
    PyObject *error = PyObject_CallFunction(state->error_from_errno, "ii", code, fd);
    if (error != NULL) {
        PyErr_SetObject((PyObject *)Py_TYPE(error), error);
        Py_DECREF(error);
    }
    return NULL;
}

PyObject *
request_error(aio_state *state, struct request *req)
{
    assert(req->result < 0);
    return PyObject_CallFunction(state->error_from_errno, "ii", (int)-req->result,
                                 req->fd);
}

PyObject *
request_value(aio_state *state, struct request *req)
{
    assert(req->result >= 0);
    switch (req->opcode) {
    case OP_READ:
        if ((size_t)req->result != req->nbytes) {
            /* _PyBytes_Resize would do, but is private: the short read is the
             * rare case (end of file), so copy. */
            return PyBytes_FromStringAndSize(PyBytes_AS_STRING(req->bytes),
                                             (Py_ssize_t)req->result);
        }
        return Py_NewRef(req->bytes);
    case OP_READINTO:
    case OP_WRITE:
        return PyLong_FromLongLong(req->result);
    case OP_FSYNC:
    case OP_FDSYNC:
        Py_RETURN_NONE;
    }
    Py_UNREACHABLE();
}
