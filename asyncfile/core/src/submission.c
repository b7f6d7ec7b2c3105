/*
 * Submission: starting an awaitable operation.
 *
 * Owns the inline path (page-cache hits complete on the loop thread, within a
 * budget per loop turn), the hand-over to the backend (a lone operation at
 * once, more in one turn batched), and the operations waiting for a free
 * request slot (ctx->overflow).  context_start is call.c's way in.
 * Relies on: lifecycle.c (context_check_usable), completion.c
 * (context_complete), request.c, fsops.c, waiter.c.
 */
#include "context.h"
#include "compat.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef ASYNCFILE_PORTABLE
#include <sys/mman.h>
#else
#include <linux/magic.h>
#include <sys/statfs.h>
#endif

/* ---------------------------------------------------------------------------
 * The inline path: page-cache hits complete on the loop thread
 */

#ifndef ASYNCFILE_PORTABLE
static bool
is_memory_backed(int fd)
{
    struct statfs fs;
    if (fstatfs(fd, &fs) < 0) {
        return false;
    }
    return fs.f_type == TMPFS_MAGIC || fs.f_type == RAMFS_MAGIC;
}
#endif

#ifdef ASYNCFILE_PORTABLE
/* Whether the page cache holds every page of the range up to the end of the
 * file: without RWF_NOWAIT (macOS has none), map the range and ask mincore(),
 * which reads no page.  A page evicted between the answer and the read costs
 * one wait for the device; a descriptor that cannot be mapped (a pipe, a
 * device) answers false, one that the read would refuse true. */
static bool
range_is_cached(int fd, uint64_t offset, size_t nbytes)
{
    static size_t page_size;
    if (page_size == 0) {
        long size = sysconf(_SC_PAGESIZE);
        page_size = size > 0 ? (size_t)size : 4096;
    }
    uint64_t start = offset - offset % page_size;
    size_t length = (size_t)(offset - start) + nbytes;
    size_t pages = (length + page_size - 1) / page_size;
    /* macOS's vector is char, Linux's unsigned char; bit 0 is "resident". */
    char resident[INLINE_MAX / 4096 + 2];
    if (nbytes == 0 || pages > sizeof(resident)) {
        return false;
    }
    void *map = mmap(NULL, length, PROT_READ, MAP_SHARED, fd, (off_t)start);
    if (map == MAP_FAILED) {
        /* Not open, or not for reading: the read fails at once as well. */
        return errno == EBADF || errno == EACCES;
    }
    bool answered = mincore(map, length, (void *)resident) == 0;
    munmap(map, length);
    if (!answered) {
        return false;
    }
    size_t cached = 0;
    while (cached < pages && (resident[cached] & 1)) {
        cached++;
    }
    if (cached == pages) {
        return true;
    }
    /* Pages past the end of the file are never resident: a read stops there. */
    struct stat st;
    return fstat(fd, &st) == 0 && start + cached * page_size >= (uint64_t)st.st_size;
}
#endif

/* Complete `req` without blocking if the kernel can; true when it did
 * (req->result is final), false when it must go to the kernel or the pool
 * (req->done says how far it got). */
bool
complete_inline(struct request *req)
{
    if (is_fs_opcode(req->opcode)) {
        /* Most may wait for a disk: see complete_at_submit too. */
        return fs_complete_inline(req);
    }
#ifdef ASYNCFILE_PORTABLE
    /* No way to ask whether a pipe read would wait, without a system call
     * that then takes the data: the pool asks poll() first. */
    if (req->nbytes > INLINE_MAX || req->direct || req->offset == OFFSET_CURRENT ||
        (req->opcode != OP_READ && req->opcode != OP_READINTO) ||
        !range_is_cached(req->fd, req->offset + req->done, req->nbytes - req->done)) {
        return false;
    }
    request_perform(req, 0);
    return true;
#else
    if (req->nbytes > INLINE_MAX || req->opcode == OP_FSYNC ||
        req->opcode == OP_FDSYNC) {
        return false;
    }
    if (req->direct) {
        return false; /* RWF_NOWAIT would still wait for the device */
    }
    if (req->opcode != OP_WRITE && request_perform(req, RWF_NOWAIT) == 0) {
        return true;
    }
    req->missed_cache = req->result == -EAGAIN;
    /* No page-cache answer without blocking: EAGAIN (a miss, or an empty
     * pipe), or EOPNOTSUPP (a file system without RWF_NOWAIT, or a buffered
     * write).  Memory-backed file systems never wait for a device, so they may
     * block here; but a FIFO on one waits for its writer, and a transfer at
     * the current position may be on a FIFO. */
    if (req->result != -EAGAIN && req->offset != OFFSET_CURRENT &&
        is_memory_backed(req->fd)) {
        request_perform(req, 0);
        return true;
    }
    return false;
#endif
}

/* ---------------------------------------------------------------------------
 * Starting an awaitable operation
 */

/* Run ctx->end_turn at the loop's next turn, once per turn. */
int
schedule_end_of_turn(struct context *ctx)
{
    if (ctx->turn_scheduled) {
        return 0;
    }
    PyObject *handle = PyObject_CallOneArg(ctx->call_soon, ctx->end_turn);
    if (handle == NULL) {
        return -1;
    }
    Py_DECREF(handle);
    ctx->turn_scheduled = true;
    return 0;
}

/* True when inline completions have held this loop turn too long.  The clock
 * is read after every INLINE_CLOCK_WORK of them (`work` counts a request's
 * bytes and a page for the call itself): a small cached read costs only a
 * few readings of the clock, and the budget runs over by at most that much
 * work. */
static bool
inline_budget_spent(struct context *ctx, size_t work)
{
    if (ctx->budget_spent) {
        return true;
    }
    if (ctx->streak_started_ns != 0) {
        ctx->unclocked_work += work + INLINE_CALL_WORK;
        if (ctx->unclocked_work < INLINE_CLOCK_WORK) {
            return false;
        }
    }
    ctx->unclocked_work = 0;
    int64_t now = monotonic_ns();
    if (ctx->streak_started_ns == 0) {
        ctx->streak_started_ns = now;
        if (schedule_end_of_turn(ctx) < 0) {
            PyErr_Clear();
            return true; /* cannot tell when the turn ends: yield now */
        }
        return false;
    }
    if (now - ctx->streak_started_ns > INLINE_BUDGET_NS) {
        ctx->budget_spent = true;
    }
    return ctx->budget_spent;
}

/* Record an inline completion's value or error in `out`. */
int
inline_outcome(struct context *ctx, struct request *req, struct call_outcome *out)
{
    if (req->result < 0) {
        out->error = request_error(ctx->state, req);
        if (out->error == NULL) {
            return -1;
        }
    }
    else {
        out->value = request_value(ctx->state, req);
        if (out->value == NULL) {
            return -1;
        }
    }
    out->must_yield = inline_budget_spent(ctx, req->nbytes);
    return 0;
}

/* Whether `fd` has O_DIRECT.  The operations of one loop turn mostly go to
 * one descriptor, so the turn asks the kernel once for it and remembers the
 * answer until the turn ends; *remembered says whether it did.  The number
 * may be closed and reopened, or its flags set, within the turn: a stale
 * "direct" costs a bounce buffer (request_prepare_direct asks again before it
 * refuses anything), a stale "buffered" is confirmed before it could matter
 * (see confirm_buffered). */
bool
context_fd_is_direct(struct context *ctx, int fd, bool *remembered)
{
    if (ctx->turn_scheduled && fd == ctx->known_fd) {
        *remembered = true;
        return ctx->known_fd_direct;
    }
    *remembered = false;
    bool direct = fd_is_direct(fd);
    /* The answer holds until the turn ends, which must then be scheduled. */
    if (schedule_end_of_turn(ctx) == 0) {
        ctx->known_fd = fd;
        ctx->known_fd_direct = direct;
    }
    else {
        PyErr_Clear();
        ctx->known_fd = -1;
    }
    return direct;
}

/* Ask again whether `req`'s descriptor has O_DIRECT, when "no" was only
 * remembered: the kernel, or a worker, would fail a transfer to misaligned
 * memory with EINVAL.  The inline path needs no confirmation first, since
 * RWF_NOWAIT never waits for the device: a stale answer shows there as
 * EAGAIN or EINVAL, and the request is confirmed before it goes on. */
static int
confirm_buffered(struct request *req)
{
    if (!req->buffered_unsure) {
        return 0;
    }
    req->buffered_unsure = false;
    if (!fd_is_direct(req->fd)) {
        return 0;
    }
    req->ctx->known_fd = -1;
    req->direct = true;
    return request_prepare_direct(req);
}

/* complete_inline, unless an EINVAL there came from a remembered answer gone
 * stale: 1 when `req` completed, 0 when it must go to the backend, -1 with
 * an error set. */
static int
complete_inline_confirmed(struct request *req)
{
    if (!complete_inline(req)) {
        return 0;
    }
    if (req->result != -EINVAL || !req->buffered_unsure) {
        return 1;
    }
    if (confirm_buffered(req) < 0) {
        return -1;
    }
    if (!req->direct) {
        return 1; /* the descriptor has no O_DIRECT: the EINVAL is real */
    }
    req->result = 0;
    req->done = 0;
    return 0;
}

/* Fill `req` for an operation on a descriptor without O_DIRECT; `buffer`
 * for write and readinto. */
int
request_fill(struct request *req, enum opcode opcode, int fd, uint64_t offset,
             size_t nbytes, PyObject *buffer)
{
    req->opcode = opcode;
    req->fd = fd;
    req->offset = offset;
    req->nbytes = nbytes;
    if (opcode == OP_READ) {
        req->bytes = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)nbytes);
        if (req->bytes == NULL) {
            return -1;
        }
        req->data = PyBytes_AS_STRING(req->bytes);
    }
    else if (buffer != NULL) {
        bool writable = opcode == OP_READINTO;
        int flags = PyBUF_C_CONTIGUOUS | (writable ? PyBUF_WRITABLE : 0);
        if (PyObject_GetBuffer(buffer, &req->view, flags) < 0) {
            PyErr_Clear();
            raise_buffer_type_error(req->ctx->state, buffer, writable);
            return -1;
        }
        req->has_view = true;
        req->data = req->view.buf;
        req->nbytes = (size_t)req->view.len;
    }
    req->direct = false;
    return 0;
}

/* Fill `req` for an awaitable operation; `buffer` for write and readinto,
 * `fs` for a filesystem call. */
static int
request_prepare(struct request *req, enum opcode opcode, int fd, uint64_t offset,
                size_t nbytes, PyObject *buffer, const struct fs_args *fs)
{
    if (fs != NULL) {
        return fs_fill(req, opcode, fd, offset, fs);
    }
    if (request_fill(req, opcode, fd, offset, nbytes, buffer) < 0) {
        return -1;
    }
    bool remembered;
    req->direct = context_fd_is_direct(req->ctx, fd, &remembered);
    req->buffered_unsure = remembered && !req->direct;
    return request_prepare_direct(req);
}

/* Hand `req` to the backend with `future` as its owner. */
static int
start_async(struct context *ctx, struct request *req, PyObject *future)
{
    /* Before anything starts: a failure here must leave nothing in flight. */
    if (schedule_end_of_turn(ctx) < 0 || confirm_buffered(req) < 0) {
        return -1;
    }
    req->owner = Py_NewRef(future);
    req->owner_is_future = true;
    int ret = ctx->backend->start(ctx, req);
    if (ret < 0) {
        raise_errno(ctx->state, -ret, req->fd);
        return -1;
    }
    /* A lone operation goes to the kernel at once; more in the same loop
     * turn are batched into one submission at the turn's end.  An O_DIRECT
     * one goes at once too: it waits for the device, which starts a request
     * arriving alone sooner than one in a batch (benchmarks/README.md,
     * "Timings behind the code").  A failed flush leaves the request queued:
     * the end of the turn retries. */
    if (req->direct || is_fs_opcode(req->opcode) || !ctx->flush_scheduled ||
        ++ctx->batched >= SUBMIT_BATCH_MAX) {
        ctx->backend->flush(ctx);
        ctx->flush_scheduled = true;
        ctx->batched = 0;
    }
    return 0;
}

/* io_uring completes what it can without waiting inside io_uring_enter (an
 * open or close answered from the caches): a filesystem call just submitted
 * may be done already.  Take it off the completed list then, for the caller
 * to finish inline; true when it did. */
static bool
complete_at_submit(struct context *ctx, struct request *req)
{
    if (!ctx->backend->completes_fs_at_submit || !is_fs_opcode(req->opcode)) {
        return false;
    }
    if (ctx->backend->reap(ctx, 0, 0) < 0 || req->state != REQ_COMPLETED) {
        return false;
    }
    return request_list_remove(&ctx->completed, req);
}

int
context_start(struct context *ctx, enum opcode opcode, int fd, uint64_t offset,
              size_t nbytes, PyObject *buffer, const struct fs_args *fs,
              struct call_outcome *out)
{
    if (context_check_usable(ctx) < 0) {
        return -1;
    }
    if (ctx->loop == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "the context is not bound to a loop");
        return -1;
    }
    struct request *req = request_acquire(ctx);
    if (req == NULL) {
        /* Every slot is busy: wait in line (as a tuple) for one. */
        PyObject *future = waiter_new(ctx->state, ctx->loop);
        if (future == NULL) {
            return -1;
        }
        struct fs_args none = {NULL, NULL, 0, 0, 0};
        const struct fs_args *a = fs != NULL ? fs : &none;
        PyObject *entry = Py_BuildValue(
            "(OiiKnOOOiiI)", future, (int)opcode, fd, (unsigned long long)offset,
            (Py_ssize_t)nbytes, buffer != NULL ? buffer : Py_None,
            a->path != NULL ? a->path : Py_None, a->path2 != NULL ? a->path2 : Py_None,
            a->fd2, a->flags, a->mode);
        if (entry == NULL || PyList_Append(ctx->overflow, entry) < 0) {
            Py_XDECREF(entry);
            Py_DECREF(future);
            return -1;
        }
        Py_DECREF(entry);
        out->future = future;
        return 0;
    }
    if (request_prepare(req, opcode, fd, offset, nbytes, buffer, fs) < 0) {
        request_release(ctx, req);
        return -1;
    }
    int completed = complete_inline_confirmed(req);
    if (completed != 0) {
        int ret = completed < 0 ? -1 : inline_outcome(ctx, req, out);
        request_release(ctx, req);
        return ret;
    }
    PyObject *future = waiter_new(ctx->state, ctx->loop);
    if (future == NULL || start_async(ctx, req, future) < 0) {
        Py_XDECREF(future);
        request_release(ctx, req);
        return -1;
    }
    if (complete_at_submit(ctx, req)) {
        Py_DECREF(future);
        int ret = inline_outcome(ctx, req, out);
        if (ret < 0) {
            fs_discard(req);
        }
        request_release(ctx, req);
        return ret;
    }
    out->future = future;
    return 0;
}

/* Start operations waiting for a slot; their futures already exist. */
void
start_overflow(struct context *ctx)
{
    while (ctx->free != NULL && PyList_GET_SIZE(ctx->overflow) > 0) {
        PyObject *entry = Py_NewRef(PyList_GET_ITEM(ctx->overflow, 0));
        if (PyList_SetSlice(ctx->overflow, 0, 1, NULL) < 0) {
            Py_DECREF(entry);
            PyErr_WriteUnraisable((PyObject *)ctx);
            return;
        }
        PyObject *future = PyTuple_GET_ITEM(entry, 0);
        int opcode = (int)PyLong_AsLong(PyTuple_GET_ITEM(entry, 1));
        int fd = (int)PyLong_AsLong(PyTuple_GET_ITEM(entry, 2));
        uint64_t offset = PyLong_AsUnsignedLongLong(PyTuple_GET_ITEM(entry, 3));
        size_t nbytes = (size_t)PyLong_AsSsize_t(PyTuple_GET_ITEM(entry, 4));
        PyObject *buffer = PyTuple_GET_ITEM(entry, 5);
        PyObject *path = PyTuple_GET_ITEM(entry, 6), *path2 = PyTuple_GET_ITEM(entry, 7);
        struct fs_args fs = {
            path == Py_None ? NULL : path,
            path2 == Py_None ? NULL : path2,
            (int)PyLong_AsLong(PyTuple_GET_ITEM(entry, 8)),
            (int)PyLong_AsLong(PyTuple_GET_ITEM(entry, 9)),
            (unsigned)PyLong_AsUnsignedLong(PyTuple_GET_ITEM(entry, 10)),
        };
        if (!waiter_is_pending(future) && opcode != OP_CLOSE) {
            Py_DECREF(entry);
            continue; /* a cancelled write must not happen at all */
        }
        /* A close happens even so: its caller gave the descriptor up. */
        struct request *req = request_acquire(ctx);
        int ret = request_prepare(req, (enum opcode)opcode, fd, offset, nbytes,
                                  buffer == Py_None ? NULL : buffer,
                                  is_fs_opcode((enum opcode)opcode) ? &fs : NULL);
        int completed = ret == 0 ? complete_inline_confirmed(req) : 0;
        if (completed < 0) {
            ret = -1;
        }
        else if (completed > 0) {
            req->owner = Py_NewRef(future);
            req->owner_is_future = true;
            context_complete(ctx, req, req->result);
        }
        else if (ret == 0) {
            ret = start_async(ctx, req, future);
        }
        if (ret < 0) {
            request_release(ctx, req);
            waiter_settle(future, NULL, fetch_exception(), false);
        }
        Py_DECREF(entry);
    }
}
