/*
 * Context: the type every native backend shares.
 *
 * Two ways in.  caio's raw API (submit/cancel/process_events with Operation
 * objects and callbacks), and the awaitable API the asyncio adapter uses
 * (aread, awrite, ...), which allocates nothing per operation beyond the
 * awaitable it returns and completes page-cache hits on the spot.
 *
 * Completions arrive on ctx->completed (from the ring, the AIO context or the
 * pool) and are dispatched on the thread holding the GIL: the event loop's
 * thread for the awaitable API.
 */
#include "core.h"
#include "compat.h"
#include "wakeup.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <string.h>
#include <structmember.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#ifdef ASYNCFILE_PORTABLE
#include <sys/mman.h>
#else
#include <linux/magic.h>
#include <sys/statfs.h>
#endif

/* Bumped in a forked child: a context created before sees a different value
 * and rebuilds instead of touching its parent's ring, AIO context or pool. A
 * process-wide counter, since fork is process-wide, and the only one:
 * asyncfile.core.forks reads it (fork_generation()), and every fork() counts,
 * os.fork() or a C library's. */
unsigned aio_fork_generation;
/* getpid(), noted at start and in each child, for asking without a call. */
static pid_t aio_pid;

static void
note_fork_in_child(void)
{
    aio_fork_generation++;
    aio_pid = getpid();
}

static pthread_once_t fork_handler_once = PTHREAD_ONCE_INIT;

static void
install_fork_handler(void)
{
    aio_pid = getpid();
    pthread_atfork(NULL, NULL, note_fork_in_child);
}

PyDoc_STRVAR(fork_generation__doc__,
"fork_generation($module, /)\n--\n\n"
"How many forks led to this process: 0 in the process that imported the\n"
"core first, one more in each forked child.");

static PyObject *
fork_generation(PyObject *Py_UNUSED(module), PyObject *Py_UNUSED(ignored))
{
    return PyLong_FromUnsignedLong(aio_fork_generation);
}

static PyMethodDef fork_functions[] = {
    {"fork_generation", fork_generation, METH_NOARGS, fork_generation__doc__},
    {NULL, NULL, 0, NULL},
};

int64_t
monotonic_ns(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
}

/* ---------------------------------------------------------------------------
 * Opening, closing, fork
 */

static PyObject *
raise_os_error(int code)
{
    errno = code;
    return PyErr_SetFromErrno(PyExc_OSError);
}

static int
context_open(struct context *ctx)
{
    ctx->requests = PyMem_RawCalloc(ctx->max_requests, sizeof(struct request));
    if (ctx->requests == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    ctx->free = NULL;
    for (unsigned i = ctx->max_requests; i-- > 0;) {
        ctx->requests[i].next = ctx->free;
        ctx->free = &ctx->requests[i];
    }
    ctx->in_flight = 0;
    request_list_init(&ctx->completed);
    int ret = wakeup_open(&ctx->eventfd, &ctx->wake_fd);
    if (ret < 0) {
        raise_os_error(-ret);
        goto err_free_requests;
    }
    ret = ctx->backend->open(ctx);
    if (ret < 0) {
        if (!PyErr_Occurred()) {
            raise_os_error(-ret);
        }
        goto err_close_wakeup;
    }
    ctx->fork_generation = aio_fork_generation;
    ctx->closed = false;
    return 0;

err_close_wakeup:
    wakeup_close(&ctx->eventfd, &ctx->wake_fd);
err_free_requests:
    PyMem_RawFree(ctx->requests);
    ctx->requests = NULL;
    return -1;
}

/* In a forked child: forget everything shared with the parent, then rebuild. */
static int
context_rebuild_after_fork(struct context *ctx)
{
    ctx->backend->abandon(ctx);
    /* The parent owns its requests; here they are copies nobody will finish. */
    for (unsigned i = 0; i < ctx->max_requests; i++) {
        if (ctx->requests[i].state != REQ_FREE) {
            request_drop_references(&ctx->requests[i]);
        }
    }
    request_table_free(ctx->requests, ctx->max_requests);
    ctx->requests = NULL;
    wakeup_close(&ctx->eventfd, &ctx->wake_fd);
    Py_CLEAR(ctx->loop);
    Py_CLEAR(ctx->call_soon);
    ctx->streak_started_ns = 0;
    ctx->budget_spent = false;
    ctx->flush_scheduled = false;
    ctx->closed = true;
    return context_open(ctx);
}

/* Every method starts here: closed contexts refuse, forked ones rebuild. */
static int
context_check_usable(struct context *ctx)
{
    if (ctx->closed) {
        PyErr_SetString(PyExc_RuntimeError, "Context is closed");
        return -1;
    }
    if (ctx->fork_generation != aio_fork_generation) {
        return context_rebuild_after_fork(ctx);
    }
    return 0;
}

static void
context_teardown(struct context *ctx, bool run_callbacks)
{
    if (ctx->closed) {
        return;
    }
    ctx->closed = true;
    if (ctx->fork_generation != aio_fork_generation) {
        ctx->backend->abandon(ctx);
        for (unsigned i = 0; i < ctx->max_requests; i++) {
            if (ctx->requests[i].state != REQ_FREE) {
                request_drop_references(&ctx->requests[i]);
            }
        }
    }
    else {
        /* Moves every request still pending onto ctx->completed. */
        ctx->backend->close(ctx);
        if (run_callbacks) {
            context_dispatch(ctx, -1);
        }
        else {
            struct request *req;
            while ((req = request_list_pop(&ctx->completed)) != NULL) {
                if (!req->owner_is_future && req->owner != NULL) {
                    PyObject *callback = operation_finish(req->owner, req);
                    Py_XDECREF(callback);
                }
                else {
                    fs_discard(req);
                }
                request_release(ctx, req);
            }
        }
    }
    if (ctx->in_flight == 0) {
        request_table_free(ctx->requests, ctx->max_requests);
    }
    /* else a backend could not reclaim some request from the kernel: leaking
     * the table is safer than letting the kernel write into freed memory. */
    ctx->requests = NULL;
    ctx->free = NULL;
    wakeup_close(&ctx->eventfd, &ctx->wake_fd);
}

/* ---------------------------------------------------------------------------
 * Completion
 */

void
context_complete(struct context *ctx, struct request *req, int64_t result)
{
    req->result = result;
    req->state = REQ_COMPLETED;
    request_settle(req);
    request_list_push(&ctx->completed, req);
}

/* The outcome of `req` for its waiter: a value or an error (new references;
 * an error making the value becomes the error). */
static void
request_outcome(aio_state *state, struct request *req, PyObject **value,
                PyObject **error)
{
    *value = *error = NULL;
    if (req->result < 0) {
        *error = request_error(state, req);
    }
    else {
        *value = request_value(state, req);
    }
    if (*value == NULL && *error == NULL) {
        *error = fetch_exception();
    }
}

int
context_take_pool_done(struct context *ctx)
{
    struct request_list done;
    request_list_init(&done);
    int count = pool_take_done(ctx->pool, &done);
    struct request *req;
    while ((req = request_list_pop(&done)) != NULL) {
        context_complete(ctx, req, req->result);
    }
    return count;
}

bool
context_cancel_in_pool(struct context *ctx, struct request *req)
{
    if (!pool_dequeue(ctx->pool, req)) {
        return false; /* a worker runs it already */
    }
    context_complete(ctx, req, -ECANCELED);
    return true;
}

void
context_close_pool(struct context *ctx)
{
    struct request_list unstarted, finished;
    request_list_init(&unstarted);
    request_list_init(&finished);
    Py_BEGIN_ALLOW_THREADS
    pool_destroy(ctx->pool, &unstarted, &finished);
    Py_END_ALLOW_THREADS
    ctx->pool = NULL;
    struct request *req;
    while ((req = request_list_pop(&finished)) != NULL) {
        context_complete(ctx, req, req->result);
    }
    while ((req = request_list_pop(&unstarted)) != NULL) {
        context_complete(ctx, req, -ECANCELED);
    }
}

/* Deliver up to `max` completions (all when max < 0); returns how many. */
int
context_dispatch(struct context *ctx, int max)
{
    int count = 0;
    struct request *req;
    while ((max < 0 || count < max) &&
           (req = request_list_pop(&ctx->completed)) != NULL) {
        /* Take the owner out of the slot before running Python code, which may
         * submit again and reuse the slot. */
        PyObject *owner = req->owner;
        req->owner = NULL;
        if (owner != NULL && req->owner_is_future) {
            PyObject *value = NULL, *error = NULL;
            if (waiter_is_pending(owner)) {
                request_outcome(ctx->state, req, &value, &error);
            }
            else {
                fs_discard(req); /* nobody takes the descriptor it opened */
            }
            request_release(ctx, req);
            /* A task woken here that dispatches again (close()) is a task
             * running: the waiters it settles must schedule their callbacks. */
            bool run_now = ctx->run_callbacks_now;
            ctx->run_callbacks_now = false;
            waiter_settle(owner, value, error, run_now);
            ctx->run_callbacks_now = run_now;
            Py_DECREF(owner);
        }
        else if (owner != NULL) {
            /* The operation copies the outcome before the slot is released. */
            PyObject *callback = operation_finish(owner, req);
            int64_t result = req->result;
            request_release(ctx, req);
            if (callback != NULL) {
                PyObject *arg = PyLong_FromLongLong(result);
                PyObject *ret = arg == NULL ? NULL : PyObject_CallOneArg(callback, arg);
                if (ret == NULL) {
                    PyErr_WriteUnraisable(callback);
                }
                Py_XDECREF(ret);
                Py_XDECREF(arg);
                Py_DECREF(callback);
            }
            Py_DECREF(owner);
        }
        else {
            request_release(ctx, req);
        }
        count++;
    }
    return count;
}

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
static bool
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
 * The awaitable API
 */

/* Run ctx->end_turn at the loop's next turn, once per turn. */
static int
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

/* True when inline completions have held this loop turn too long. */
static bool
inline_budget_spent(struct context *ctx)
{
    if (ctx->budget_spent) {
        return true;
    }
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
static int
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
    out->must_yield = inline_budget_spent(ctx);
    return 0;
}

/* Whether `fd` has O_DIRECT.  A loop turn that starts many operations on one
 * O_DIRECT descriptor asks the kernel once: the answer holds until the turn
 * ends (a stale one costs a bounce buffer; request_prepare_direct asks again
 * before it refuses anything). */
static bool
context_fd_is_direct(struct context *ctx, int fd)
{
    if (ctx->turn_scheduled && fd == ctx->direct_fd) {
        return true;
    }
    bool direct = fd_is_direct(fd);
    ctx->direct_fd = direct ? fd : -1;
    return direct;
}

/* Fill `req` for an operation on a descriptor without O_DIRECT; `buffer`
 * for write and readinto. */
static int
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
    req->direct = context_fd_is_direct(req->ctx, fd);
    return request_prepare_direct(req);
}

/* Hand `req` to the backend with `future` as its owner. */
static int
start_async(struct context *ctx, struct request *req, PyObject *future)
{
    /* Before anything starts: a failure here must leave nothing in flight. */
    if (schedule_end_of_turn(ctx) < 0) {
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
     * one goes at once too: it waits for the device, which then starts it
     * sooner (at 64 reads in flight here, batches of 8 gave ~6% fewer reads
     * per second than one at a time, as fio submits them).  A failed flush
     * leaves the request queued: the end of the turn retries. */
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
#ifndef ASYNCFILE_PORTABLE
    if (ctx->backend != &uring_backend || !is_fs_opcode(req->opcode)) {
        return false;
    }
    if (ctx->backend->reap(ctx, 0, 0) < 0 || req->state != REQ_COMPLETED) {
        return false;
    }
    return request_list_remove(&ctx->completed, req);
#else
    (void)ctx;
    (void)req;
    return false;
#endif
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
    if (complete_inline(req)) {
        int ret = inline_outcome(ctx, req, out);
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
static void
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
        if (ret == 0 && complete_inline(req)) {
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

/* ---------------------------------------------------------------------------
 * Dispatching callbacks without an event loop (thread_aio's raw API)
 *
 * caio's thread_aio calls callbacks on its own: nobody pumps it.  The workers
 * never take the GIL, so a dispatcher thread waits on the eventfd and takes the
 * GIL only to run callbacks.  It holds a reference to the context while
 * operations are in flight and exits when none are left.
 */

static void *
dispatcher_main(void *arg)
{
    struct context *ctx = arg;
    int fd = ctx->eventfd;
    for (;;) {
        struct pollfd ready = {.fd = fd, .events = POLLIN};
        if (poll(&ready, 1, 1000) < 0 && errno != EINTR) {
            break;
        }
        PyGILState_STATE gil = PyGILState_Ensure();
        bool done = ctx->closed;
        if (!done) {
            (void)wakeup_drain(ctx->eventfd);
            ctx->backend->reap(ctx, 0, 0);
            context_dispatch(ctx, -1);
            done = ctx->closed || ctx->in_flight == 0;
        }
        if (done) {
            ctx->dispatcher_running = false;
            Py_DECREF((PyObject *)ctx);
            PyGILState_Release(gil);
            return NULL;
        }
        fd = ctx->eventfd;
        PyGILState_Release(gil);
    }
    PyGILState_STATE gil = PyGILState_Ensure();
    ctx->dispatcher_running = false;
    Py_DECREF((PyObject *)ctx);
    PyGILState_Release(gil);
    return NULL;
}

static int
ensure_dispatcher(struct context *ctx)
{
    if (ctx->dispatcher_running || ctx->loop != NULL ||
        ctx->backend != &thread_backend) {
        return 0;
    }
    pthread_attr_t attr;
    pthread_t thread;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    Py_INCREF((PyObject *)ctx);
    int ret = pthread_create(&thread, &attr, dispatcher_main, ctx);
    pthread_attr_destroy(&attr);
    if (ret != 0) {
        Py_DECREF((PyObject *)ctx);
        raise_os_error(ret);
        return -1;
    }
    ctx->dispatcher_running = true;
    return 0;
}

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

PyDoc_STRVAR(context_submit__doc__,
"submit($self, /, *operations)\n--\n\n"
"Start the operations; return how many were accepted.\n\n"
"An operation that was submitted before is not accepted again.  When every\n"
"request slot is busy, QueueFullError is raised; the operations accepted\n"
"before it stay in flight.");

static PyObject *
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

PyDoc_STRVAR(context_cancel__doc__,
"cancel($self, /, *operations)\n--\n\n"
"Cancel operations that have not started; return how many were.\n\n"
"A cancelled operation completes with ECANCELED.");

static PyObject *
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

PyDoc_STRVAR(context_close__doc__,
"close($self, /)\n--\n\n"
"Free the kernel resources now.  Operations still pending complete with\n"
"ECANCELED (or their result, if the kernel finished them); later calls raise\n"
"RuntimeError.  Closing twice does nothing.");

static PyObject *
context_close(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    struct context *ctx = CONTEXT(self);
    if (!ctx->closed) {
        /* Wake the dispatcher so it sees the context closed and exits. */
        if (ctx->dispatcher_running) {
            wakeup_signal(ctx->wake_fd);
        }
        context_teardown(ctx, true);
        PyObject *overflow = ctx->overflow;
        ctx->overflow = PyList_New(0);
        if (overflow != NULL) {
            /* They never started: they fail as a call after close() does. */
            for (Py_ssize_t i = 0; i < PyList_GET_SIZE(overflow); i++) {
                PyObject *future = PyTuple_GET_ITEM(PyList_GET_ITEM(overflow, i), 0);
                if (!waiter_is_pending(future)) {
                    continue; /* cancelled while waiting */
                }
                PyObject *error = PyObject_CallFunction(PyExc_RuntimeError, "s",
                                                        "AsyncioContext is closed");
                if (error == NULL) {
                    error = fetch_exception();
                }
                waiter_settle(future, NULL, error, false);
            }
            Py_DECREF(overflow);
        }
        if (PyErr_Occurred()) {
            return NULL;
        }
    }
    Py_RETURN_NONE;
}

#ifndef ASYNCFILE_PORTABLE
/* The kernel-polled contexts' methods (io_uring, Linux AIO). */

PyDoc_STRVAR(context_poll__doc__,
"poll($self, /)\n--\n\n"
"Read and reset the eventfd's counter: how many completions were signalled.\n"
"Raises BlockingIOError when there were none.");

static PyObject *
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

PyDoc_STRVAR(context_process_events__doc__,
"process_events($self, /, max_requests=512, min_requests=0, timeout=0)\n--\n\n"
"Deliver up to max_requests completions, first waiting up to timeout seconds\n"
"(forever if negative) for at least min_requests; return how many.");

static PyObject *
context_process_events(PyObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"max_requests", "min_requests", "timeout", NULL};
    struct context *ctx = CONTEXT(self);
    int max_requests = 512, min_requests = 0;
    double timeout = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|iid:process_events", kwlist,
                                     &max_requests, &min_requests, &timeout)) {
        return NULL;
    }
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

PyDoc_STRVAR(context_flush__doc__,
"flush($self, /)\n--\n\n"
"Hand the queued operations to the kernel; return how many.");

static PyObject *
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

/* ---------------------------------------------------------------------------
 * Methods: the awaitable API (used by the asyncio adapters)
 */

PyDoc_STRVAR(context_bind__doc__,
"bind($self, loop, /)\n--\n\n"
"Serve the awaitable methods on `loop` (the caller registers on_ready as the\n"
"eventfd's reader).");

static PyObject *
context_bind(PyObject *self, PyObject *loop)
{
    struct context *ctx = CONTEXT(self);
    if (context_check_usable(ctx) < 0) {
        return NULL;
    }
    if (ctx->dispatcher_running) {
        PyErr_SetString(PyExc_RuntimeError,
                        "the context already runs callbacks without a loop");
        return NULL;
    }
    PyObject *call_soon = PyObject_GetAttr(loop, ctx->state->str_call_soon);
    PyObject *end_turn = PyObject_GetAttrString(self, "_end_turn");
    if (call_soon == NULL || end_turn == NULL) {
        Py_XDECREF(call_soon);
        Py_XDECREF(end_turn);
        return NULL;
    }
    Py_XSETREF(ctx->loop, Py_NewRef(loop));
    Py_XSETREF(ctx->call_soon, call_soon);
    Py_XSETREF(ctx->end_turn, end_turn);
    ctx->turn_scheduled = false;
    ctx->direct_fd = -1;
    ctx->buffered_fd = -1;
    ctx->flush_scheduled = false;
    ctx->streak_started_ns = 0;
    ctx->budget_spent = false;
    Py_RETURN_NONE;
}

/* Deliver every completion from a callback of the loop: with no task
 * running, the waiters wake their tasks on the spot. */
static void
dispatch_from_loop(struct context *ctx)
{
    if (ctx->completed.head == NULL) {
        return;
    }
    PyObject *task = ctx->loop == NULL
                         ? NULL
                         : PyObject_CallOneArg(ctx->state->current_task, ctx->loop);
    if (task == NULL && PyErr_Occurred()) {
        PyErr_WriteUnraisable((PyObject *)ctx);
    }
    ctx->run_callbacks_now = task == Py_None;
    Py_XDECREF(task);
    context_dispatch(ctx, -1);
    ctx->run_callbacks_now = false;
}

PyDoc_STRVAR(context_on_ready__doc__,
"on_ready($self, /)\n--\n\n"
"Deliver every completion: the eventfd's reader callback.");

static PyObject *
context_on_ready(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    struct context *ctx = CONTEXT(self);
    if (ctx->closed || ctx->fork_generation != aio_fork_generation) {
        Py_RETURN_NONE;
    }
    (void)wakeup_drain(ctx->eventfd);
    int ret = ctx->backend->reap(ctx, 0, 0);
    dispatch_from_loop(ctx);
    if (ctx->overflow != NULL && PyList_GET_SIZE(ctx->overflow) > 0) {
        start_overflow(ctx);
        dispatch_from_loop(ctx);
    }
    if (ret < 0 && !PyErr_Occurred()) {
        return raise_os_error(-ret);
    }
    if (PyErr_Occurred()) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *
context_end_turn(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    struct context *ctx = CONTEXT(self);
    ctx->turn_scheduled = false;
    ctx->direct_fd = -1;
    ctx->buffered_fd = -1;
    ctx->streak_started_ns = 0;
    ctx->budget_spent = false;
    if (ctx->flush_scheduled) {
        ctx->flush_scheduled = false;
        if (!ctx->closed && ctx->fork_generation == aio_fork_generation) {
            ctx->backend->flush(ctx);
        }
    }
    /* A submission the kernel refused completed without a wake-up. */
    dispatch_from_loop(ctx);
    Py_RETURN_NONE;
}

static int
parse_fd(PyObject *arg, int *fd)
{
    return fd_converter(arg, fd) ? 0 : -1;
}

static int
parse_offset(PyObject *const *args, Py_ssize_t nargs, Py_ssize_t index,
             uint64_t *offset)
{
    *offset = 0;
    return nargs > index && !offset_converter(args[index], offset) ? -1 : 0;
}

static int
check_arity(const char *name, Py_ssize_t nargs, Py_ssize_t min, Py_ssize_t max)
{
    if (nargs < min || nargs > max) {
        PyErr_Format(PyExc_TypeError, "%s() takes from %zd to %zd arguments (%zd given)",
                     name, min, max, nargs);
        return -1;
    }
    return 0;
}

PyDoc_STRVAR(context_aread__doc__,
"aread($self, nbytes, fd, offset=0, /)\n--\n\n"
"Awaitable read of up to nbytes at offset; its value is the bytes read.");

PyObject *
context_aread(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    size_t nbytes;
    int fd;
    uint64_t offset;
    if (check_arity("aread", nargs, 2, 3) < 0 || !size_converter(args[0], &nbytes) ||
        parse_fd(args[1], &fd) < 0 || parse_offset(args, nargs, 2, &offset) < 0) {
        return NULL;
    }
    if (nbytes > (size_t)PY_SSIZE_T_MAX) {
        return PyErr_Format(PyExc_OverflowError, "cannot read %zu bytes at once",
                            nbytes);
    }
    return call_new(CONTEXT(self), OP_READ, fd, offset, nbytes, NULL);
}

#if PY_VERSION_HEX < 0x030C0000
/* Before 3.12, CPython's _asyncio keeps a thread's running loop in the
 * thread state's dict, under this key, as a holder of the loop and of the
 * pid that set it (so that a forked child does not see its parent's loop);
 * asyncio._get_running_loop() makes a getpid() system call to compare.  The
 * holder's layout is fixed in those releases: reading it here, against the
 * pid noted at fork, is the same answer without the system call. */
typedef struct {
    PyObject_HEAD
    PyObject *loop;
    pid_t pid;
} running_loop_holder;

static PyObject *running_loop_key;        /* "__asyncio_running_event_loop__" */
static PyTypeObject *running_loop_holder_type; /* _asyncio's, once seen */

/* The running loop of this thread (borrowed, or NULL for none) in `*loop`:
 * 1 when the thread state answered, 0 when asyncio must be asked (no C
 * _asyncio, or a holder this code does not know), -1 on error. */
static int
running_loop_from_thread_state(PyObject **loop)
{
    PyObject *dict = PyThreadState_GetDict();
    if (dict == NULL) {
        return 0;
    }
    PyObject *holder = PyDict_GetItemWithError(dict, running_loop_key);
    if (holder == NULL) {
        return PyErr_Occurred() ? -1 : 0;
    }
    if (Py_TYPE(holder) != running_loop_holder_type) {
        if (running_loop_holder_type != NULL ||
            strcmp(Py_TYPE(holder)->tp_name, "_RunningLoopHolder") != 0 ||
            Py_TYPE(holder)->tp_basicsize != (Py_ssize_t)sizeof(running_loop_holder)) {
            return 0;
        }
        running_loop_holder_type = Py_TYPE(holder); /* a static type: never freed */
    }
    running_loop_holder *held = (running_loop_holder *)holder;
    *loop = held->loop != Py_None && held->pid == aio_pid ? held->loop : NULL;
    return 1;
}
#endif

/* 1 if `ctx` serves the loop running now in this thread of this process: it
 * is open, was made (or rebuilt) after the last fork, and is bound to the
 * running loop; 0 if not, -1 on error.  The one answer to that question for
 * the C paths and the Python adapters (serves_running_loop()). */
int
context_serves_running_loop(struct context *ctx)
{
    if (ctx->closed || ctx->fork_generation != aio_fork_generation || ctx->loop == NULL) {
        return 0;
    }
#if PY_VERSION_HEX < 0x030C0000
    PyObject *loop = NULL;
    int found = running_loop_from_thread_state(&loop);
    if (found != 0) {
        return found < 0 ? -1 : loop == ctx->loop;
    }
#endif
    /* From 3.12, asyncio answers from the thread's state, as cheaply. */
    PyObject *running = PyObject_CallNoArgs(ctx->state->get_running_loop);
    if (running == NULL) {
        return -1;
    }
    Py_DECREF(running); /* only its identity is needed */
    return running == ctx->loop;
}

PyDoc_STRVAR(context_serves_running_loop__doc__,
"serves_running_loop($self, /)\n--\n\n"
"Whether the context is open, made (or rebuilt) after the last fork, and\n"
"bound to the event loop running now in this thread.");

static PyObject *
context_serves_running_loop_method(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    int serving = context_serves_running_loop(CONTEXT(self));
    return serving < 0 ? NULL : PyBool_FromLong(serving);
}

/* Whether `fd` is without O_DIRECT, asking the kernel once a loop turn: the
 * reads read_cached makes in one turn go on one descriptor.  Should it gain
 * O_DIRECT within the turn, a misaligned read fails with EINVAL (answered
 * None, so aread bounces it) and an aligned one waits for the device once. */
static bool
context_fd_is_buffered(struct context *ctx, int fd)
{
    if (ctx->turn_scheduled && fd == ctx->buffered_fd) {
        return true;
    }
    if (fd_is_direct(fd)) {
        return false;
    }
    /* The answer holds until the turn ends, which must then be scheduled. */
    ctx->buffered_fd = schedule_end_of_turn(ctx) == 0 ? fd : -1;
    PyErr_Clear();
    return true;
}

PyDoc_STRVAR(context_read_cached__doc__,
"read_cached($self, nbytes, fd, offset=0, /)\n--\n\n"
"The bytes at offset (up to nbytes, fewer only at the end of the file) if\n"
"the page cache holds them and the running loop, the context's, may take\n"
"them now; False when the loop must run first (this turn's inline budget is\n"
"spent: ask again after a loop turn); None when reading them would wait, or\n"
"cannot be done here, so that the caller awaits aread instead.");

static PyObject *
context_read_cached(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    size_t nbytes;
    int fd;
    uint64_t offset;
    if (check_arity("read_cached", nargs, 2, 3) < 0 ||
        !size_converter(args[0], &nbytes) || parse_fd(args[1], &fd) < 0 ||
        parse_offset(args, nargs, 2, &offset) < 0) {
        return NULL;
    }
    struct context *ctx = CONTEXT(self);
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
    if (!context_fd_is_buffered(ctx, fd)) {
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

static PyObject *
buffer_awaitable(PyObject *self, PyObject *const *args, Py_ssize_t nargs,
                 enum opcode opcode, const char *name)
{
    int fd;
    uint64_t offset;
    if (check_arity(name, nargs, 2, 3) < 0 || parse_fd(args[1], &fd) < 0 ||
        parse_offset(args, nargs, 2, &offset) < 0) {
        return NULL;
    }
    return call_new(CONTEXT(self), opcode, fd, offset, 0, args[0]);
}

PyDoc_STRVAR(context_areadinto__doc__,
"areadinto($self, buffer, fd, offset=0, /)\n--\n\n"
"Awaitable read into a writable buffer; its value is the count read.");

PyObject *
context_areadinto(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    return buffer_awaitable(self, args, nargs, OP_READINTO, "areadinto");
}

PyDoc_STRVAR(context_awrite__doc__,
"awrite($self, buffer, fd, offset=0, /)\n--\n\n"
"Awaitable write of a contiguous buffer; its value is the count written.");

PyObject *
context_awrite(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    return buffer_awaitable(self, args, nargs, OP_WRITE, "awrite");
}

static PyObject *
sync_awaitable(PyObject *self, PyObject *fd_arg, enum opcode opcode)
{
    int fd;
    if (parse_fd(fd_arg, &fd) < 0) {
        return NULL;
    }
    return call_new(CONTEXT(self), opcode, fd, 0, 0, NULL);
}

PyDoc_STRVAR(context_afsync__doc__,
"afsync($self, fd, /)\n--\n\n"
"Awaitable fsync(fd).");

static PyObject *
context_afsync(PyObject *self, PyObject *fd)
{
    return sync_awaitable(self, fd, OP_FSYNC);
}

PyDoc_STRVAR(context_afdsync__doc__,
"afdsync($self, fd, /)\n--\n\n"
"Awaitable fdatasync(fd).");

static PyObject *
context_afdsync(PyObject *self, PyObject *fd)
{
    return sync_awaitable(self, fd, OP_FDSYNC);
}

/* ---------------------------------------------------------------------------
 * Properties and the type
 */

static PyObject *
context_get_fileno(PyObject *self, void *Py_UNUSED(closure))
{
    struct context *ctx = CONTEXT(self);
    if (context_check_usable(ctx) < 0) {
        return NULL;
    }
    return PyLong_FromLong(ctx->eventfd);
}

static PyObject *
context_get_max_requests(PyObject *self, void *Py_UNUSED(closure))
{
    return PyLong_FromUnsignedLong(CONTEXT(self)->max_requests);
}

static PyObject *
context_get_closed(PyObject *self, void *Py_UNUSED(closure))
{
    return PyBool_FromLong(CONTEXT(self)->closed);
}

static PyObject *
context_get_in_flight(PyObject *self, void *Py_UNUSED(closure))
{
    return PyLong_FromUnsignedLong(CONTEXT(self)->in_flight);
}

static PyObject *
context_get_pool_threads(PyObject *self, void *Py_UNUSED(closure))
{
    struct context *ctx = CONTEXT(self);
    return PyLong_FromUnsignedLong(ctx->pool != NULL && !ctx->closed
                                       ? pool_threads(ctx->pool)
                                       : 0);
}

static PyObject *
context_get_submit_calls(PyObject *self, void *Py_UNUSED(closure))
{
    return PyLong_FromUnsignedLongLong(CONTEXT(self)->submit_calls);
}

static PyObject *
context_get_ring_fs_calls(PyObject *self, void *Py_UNUSED(closure))
{
    struct context *ctx = CONTEXT(self);
#ifndef ASYNCFILE_PORTABLE
    if (ctx->backend == &uring_backend && !ctx->closed &&
        ctx->fork_generation == aio_fork_generation) {
        return uring_fs_calls(ctx);
    }
#endif
    (void)ctx;
    return PyFrozenSet_New(NULL);
}

static PyObject *
context_get_sqpoll(PyObject *self, void *Py_UNUSED(closure))
{
    return PyBool_FromLong(CONTEXT(self)->sqpoll_active);
}

static PyObject *
context_repr(PyObject *self)
{
    struct context *ctx = CONTEXT(self);
    if (ctx->closed) {
        return PyUnicode_FromFormat("<%s closed>", Py_TYPE(self)->tp_name);
    }
    return PyUnicode_FromFormat("<%s max_requests=%u in_flight=%u>",
                                Py_TYPE(self)->tp_name, ctx->max_requests,
                                ctx->in_flight);
}

static int
context_traverse(PyObject *self, visitproc visit, void *arg)
{
    struct context *ctx = CONTEXT(self);
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(ctx->loop);
    Py_VISIT(ctx->call_soon);
    Py_VISIT(ctx->end_turn);
    Py_VISIT(ctx->overflow);
    if (ctx->requests != NULL) {
        for (unsigned i = 0; i < ctx->max_requests; i++) {
            Py_VISIT(ctx->requests[i].owner);
        }
    }
    return 0;
}

static int
context_clear(PyObject *self)
{
    struct context *ctx = CONTEXT(self);
    Py_CLEAR(ctx->loop);
    Py_CLEAR(ctx->call_soon);
    Py_CLEAR(ctx->end_turn);
    Py_CLEAR(ctx->overflow);
    return 0;
}

static void
context_dealloc(PyObject *self)
{
    struct context *ctx = CONTEXT(self);
    PyTypeObject *type = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    if (ctx->weakreflist != NULL) {
        PyObject_ClearWeakRefs(self);
    }
    /* A destructor is no place for user callbacks: outcomes are recorded on
     * the operations, silently. */
    context_teardown(ctx, false);
    context_clear(self);
    type->tp_free(self);
    Py_DECREF(type);
}

bool
is_native_context(PyObject *obj)
{
    /* The three context types share it, and none can be subclassed. */
    return Py_TYPE(obj)->tp_dealloc == context_dealloc;
}

static PyObject *
context_create(PyTypeObject *type, const struct backend *backend,
               unsigned max_requests, unsigned pool_size, bool sqpoll)
{
    aio_state *state = PyType_GetModuleState(type);
    if (state == NULL) {
        return NULL;
    }
    if (max_requests == 0 || max_requests > 65536) {
        return PyErr_Format(PyExc_ValueError,
                            "max_requests must be between 1 and 65536, got %u",
                            max_requests);
    }
    if (pool_size == 0 || pool_size > 1024) {
        return PyErr_Format(PyExc_ValueError,
                            "pool_size must be between 1 and 1024, got %u", pool_size);
    }
    struct context *ctx = (struct context *)type->tp_alloc(type, 0);
    if (ctx == NULL) {
        return NULL;
    }
    ctx->backend = backend;
    ctx->state = state;
    ctx->max_requests = max_requests;
    ctx->pool_size = pool_size;
    ctx->sqpoll_requested = sqpoll;
    ctx->eventfd = -1;
    ctx->wake_fd = -1;
    ctx->direct_fd = -1;
    ctx->buffered_fd = -1;
    ctx->closed = true;
    ctx->overflow = PyList_New(0);
    if (ctx->overflow == NULL || context_open(ctx) < 0) {
        Py_DECREF(ctx);
        return NULL;
    }
    return (PyObject *)ctx;
}

#ifndef ASYNCFILE_PORTABLE
static PyObject *
uring_context_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"max_requests", "sqpoll", "pool_size", NULL};
    int max_requests = 32, sqpoll = 0, pool_size = 64;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|ipi:Context", kwlist,
                                     &max_requests, &sqpoll, &pool_size)) {
        return NULL;
    }
    if (max_requests <= 0 || pool_size <= 0) {
        return PyErr_Format(PyExc_ValueError,
                            "max_requests and pool_size must be positive, got %d, %d",
                            max_requests, pool_size);
    }
    return context_create(type, &uring_backend, (unsigned)max_requests,
                          (unsigned)pool_size, sqpoll);
}
#endif

static PyObject *
pooled_context_new(PyTypeObject *type, PyObject *args, PyObject *kwargs,
                   const struct backend *backend)
{
    static char *kwlist[] = {"max_requests", "pool_size", NULL};
    int max_requests = 32, pool_size = 64;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|ii:Context", kwlist,
                                     &max_requests, &pool_size)) {
        return NULL;
    }
    if (max_requests <= 0 || pool_size <= 0) {
        return PyErr_Format(PyExc_ValueError,
                            "max_requests and pool_size must be positive, got %d, %d",
                            max_requests, pool_size);
    }
    return context_create(type, backend, (unsigned)max_requests, (unsigned)pool_size,
                          false);
}

#ifndef ASYNCFILE_PORTABLE
static PyObject *
kaio_context_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    return pooled_context_new(type, args, kwargs, &kaio_backend);
}
#endif

static PyObject *
thread_context_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    return pooled_context_new(type, args, kwargs, &thread_backend);
}

#define COMMON_METHODS                                                               \
    {"submit", (PyCFunction)(void (*)(void))context_submit, METH_FASTCALL,           \
     context_submit__doc__},                                                         \
    {"cancel", (PyCFunction)(void (*)(void))context_cancel, METH_FASTCALL,           \
     context_cancel__doc__},                                                         \
    {"close", context_close, METH_NOARGS, context_close__doc__},                     \
    {"bind", context_bind, METH_O, context_bind__doc__},                             \
    {"serves_running_loop", context_serves_running_loop_method, METH_NOARGS,         \
     context_serves_running_loop__doc__},                                            \
    {"on_ready", context_on_ready, METH_NOARGS, context_on_ready__doc__},            \
    {"_end_turn", context_end_turn, METH_NOARGS, NULL},                              \
    {"aread", (PyCFunction)(void (*)(void))context_aread, METH_FASTCALL,             \
     context_aread__doc__},                                                          \
    {"read_cached", (PyCFunction)(void (*)(void))context_read_cached, METH_FASTCALL, \
     context_read_cached__doc__},                                                    \
    {"areadinto", (PyCFunction)(void (*)(void))context_areadinto, METH_FASTCALL,     \
     context_areadinto__doc__},                                                      \
    {"awrite", (PyCFunction)(void (*)(void))context_awrite, METH_FASTCALL,           \
     context_awrite__doc__},                                                         \
    {"afsync", context_afsync, METH_O, context_afsync__doc__},                       \
    {"afdsync", context_afdsync, METH_O, context_afdsync__doc__},                    \
    FS_METHODS

#ifndef ASYNCFILE_PORTABLE
static PyMethodDef polled_context_methods[] = {
    COMMON_METHODS,
    {"poll", context_poll, METH_NOARGS, context_poll__doc__},
    {"process_events", (PyCFunction)(void (*)(void))context_process_events,
     METH_VARARGS | METH_KEYWORDS, context_process_events__doc__},
    {"flush", context_flush, METH_NOARGS, context_flush__doc__},
    {NULL, NULL, 0, NULL},
};
#endif

static PyMethodDef thread_context_methods[] = {
    COMMON_METHODS,
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef context_getset[] = {
    {"fileno", context_get_fileno, NULL,
     "The descriptor readable on completion: an eventfd, or a pipe's read end\n"
     "in the portable build.",
     NULL},
    {"max_requests", context_get_max_requests, NULL,
     "How many operations may be in flight at once.", NULL},
    {"closed", context_get_closed, NULL, "Whether close() was called.", NULL},
    {"in_flight", context_get_in_flight, NULL,
     "How many operations are in flight.", NULL},
    {"pool_threads", context_get_pool_threads, NULL,
     "How many pool threads run now (thread and linux backends).", NULL},
    {"submit_calls", context_get_submit_calls, NULL,
     "How many io_uring_enter or io_submit calls submitted requests (the thread\n"
     "pool makes none).",
     NULL},
    {"ring_fs_calls", context_get_ring_fs_calls, NULL,
     "The filesystem calls io_uring runs for this context (probed one by one\n"
     "when it opens): openat, close, statx, renameat, unlinkat, mkdirat,\n"
     "symlinkat, linkat; the others, and all of them on the other backends, run\n"
     "on the native pool.",
     NULL},
    {"sqpoll", context_get_sqpoll, NULL,
     "Whether a kernel thread polls the submission queue (io_uring only).", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMemberDef context_members[] = {
    {"__weaklistoffset__", T_PYSSIZET, offsetof(struct context, weakreflist), READONLY,
     NULL},
    {NULL, 0, 0, 0, NULL},
};

#ifndef ASYNCFILE_PORTABLE
PyDoc_STRVAR(uring_context__doc__,
"UringContext(max_requests=32, sqpoll=False, pool_size=64)\n--\n\n"
"linux_uring context: io_uring, one ring and one eventfd.  sqpoll=True asks\n"
"for a kernel thread polling the submission queue (off by default: it costs\n"
"a CPU and was slower here).  Buffered reads too big to copy on the loop\n"
"thread go to a thread pool of up to pool_size threads.");

PyDoc_STRVAR(kaio_context__doc__,
"LinuxAioContext(max_requests=32, pool_size=64)\n--\n\n"
"linux_aio context: Linux kernel AIO for what the kernel runs asynchronously\n"
"(O_DIRECT, page-cache hits), a thread pool of pool_size threads for buffered\n"
"misses.");
#endif

PyDoc_STRVAR(thread_context__doc__,
"ThreadContext(max_requests=32, pool_size=64)\n--\n\n"
"thread_aio context: a native thread pool of up to pool_size threads that\n"
"never take the GIL; callbacks run on a dispatcher thread.");

#define CONTEXT_SLOTS(new, doc, methods)                                             \
    {Py_tp_new, new}, {Py_tp_doc, (void *)doc}, {Py_tp_methods, methods},            \
        {Py_tp_getset, context_getset}, {Py_tp_members, context_members},            \
        {Py_tp_repr, context_repr}, {Py_tp_traverse, context_traverse},              \
        {Py_tp_clear, context_clear}, {Py_tp_dealloc, context_dealloc}, {0, NULL}

#ifndef ASYNCFILE_PORTABLE
static PyType_Slot uring_context_slots[] = {
    CONTEXT_SLOTS(uring_context_new, uring_context__doc__, polled_context_methods)};
static PyType_Slot kaio_context_slots[] = {
    CONTEXT_SLOTS(kaio_context_new, kaio_context__doc__, polled_context_methods)};
#endif
static PyType_Slot thread_context_slots[] = {
    CONTEXT_SLOTS(thread_context_new, thread_context__doc__, thread_context_methods)};

#define CONTEXT_SPEC(type_name, slot_table)                                               \
    {                                                                                \
        .name = "asyncfile.core._aio." type_name,                                    \
        .basicsize = sizeof(struct context),                                         \
        .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_IMMUTABLETYPE, \
        .slots = slot_table,                                                         \
    }

#ifndef ASYNCFILE_PORTABLE
static PyType_Spec uring_context_spec = CONTEXT_SPEC("UringContext", uring_context_slots);
static PyType_Spec kaio_context_spec = CONTEXT_SPEC("LinuxAioContext", kaio_context_slots);
#endif
static PyType_Spec thread_context_spec =
    CONTEXT_SPEC("ThreadContext", thread_context_slots);

static PyTypeObject *
add_context_type(PyObject *module, PyType_Spec *spec)
{
    PyTypeObject *type = (PyTypeObject *)PyType_FromModuleAndSpec(module, spec, NULL);
    if (type != NULL && PyModule_AddType(module, type) < 0) {
        Py_CLEAR(type);
    }
    return type;
}

int
context_module_init(PyObject *module, aio_state *state)
{
    pthread_once(&fork_handler_once, install_fork_handler);
    if (PyModule_AddFunctions(module, fork_functions) < 0) {
        return -1;
    }
#if PY_VERSION_HEX < 0x030C0000
    if (running_loop_key == NULL &&
        (running_loop_key = PyUnicode_InternFromString("__asyncio_running_event_loop__")) ==
            NULL) {
        return -1;
    }
#endif
#ifndef ASYNCFILE_PORTABLE
    state->uring_context_type = add_context_type(module, &uring_context_spec);
    state->kaio_context_type = add_context_type(module, &kaio_context_spec);
    if (state->uring_context_type == NULL || state->kaio_context_type == NULL) {
        return -1;
    }
#endif
    state->thread_context_type = add_context_type(module, &thread_context_spec);
    return state->thread_context_type == NULL ? -1 : 0;
}
