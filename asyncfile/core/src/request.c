/*
 * Requests: the preallocated slots, running one with blocking system calls,
 * and turning a finished one into its Python value or error.
 */
#include "core.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
    req->direct = false;
    req->buffered_unsure = false;
    req->missed_cache = false;
    req->bytes = NULL;
    req->bounce = NULL;
    req->data = NULL;
    req->has_view = false;
    req->owner = NULL;
    req->owner_is_future = false;
    req->path = NULL;
    req->path2 = NULL;
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
    Py_CLEAR(req->path);
    Py_CLEAR(req->path2);
    if (req->bounce != req->kept) {
        free(req->bounce);
    }
    req->bounce = NULL;
    req->data = NULL;
}

/* What O_DIRECT asks of memory and of file offsets and lengths, for `fd`. */
static void
direct_io_alignment(int fd, size_t *memory, size_t *file)
{
    *memory = *file = 4096; /* what every file system here accepts */
#if defined(STATX_DIOALIGN) && !defined(ASYNCFILE_PORTABLE)
    struct statx stx;
    if (statx(fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &stx) == 0 &&
        (stx.stx_mask & STATX_DIOALIGN) && stx.stx_dio_mem_align != 0 &&
        stx.stx_dio_offset_align != 0) {
        *memory = stx.stx_dio_mem_align;
        *file = stx.stx_dio_offset_align;
    }
#else
    (void)fd;
#endif
}

/* macOS has no O_DIRECT: its direct I/O, fcntl(F_NOCACHE), asks nothing of
 * alignment, so such a descriptor needs no checks and no bounce buffer. */
bool
fd_is_direct(int fd)
{
#ifdef O_DIRECT
    int flags = fcntl(fd, F_GETFL);
    /* A bad descriptor is the system call's to report. */
    return flags >= 0 && (flags & O_DIRECT);
#else
    (void)fd;
    return false;
#endif
}

/* Reads up to this size reuse their slot's aligned memory, so that a stream of
 * small O_DIRECT reads allocates nothing; larger ones get their own. */
#define KEPT_BOUNCE_MAX ((size_t)64 << 10)
#define KEPT_BOUNCE_ALIGN ((size_t)4096)

/* Aligned memory for an O_DIRECT read into a new bytes object; NULL when
 * out of memory. */
static void *
bounce_take(struct request *req, size_t align)
{
    void *memory;
    if (req->nbytes > KEPT_BOUNCE_MAX || align > KEPT_BOUNCE_ALIGN) {
        return posix_memalign(&memory, align, req->nbytes) == 0 ? memory : NULL;
    }
    if (req->kept_size < req->nbytes) {
        if (posix_memalign(&memory, KEPT_BOUNCE_ALIGN, req->nbytes) != 0) {
            return NULL;
        }
        free(req->kept);
        req->kept = memory;
        req->kept_size = req->nbytes;
    }
    return req->kept;
}

int
request_prepare_direct(struct request *req)
{
    if (!req->direct || req->opcode == OP_FSYNC || req->opcode == OP_FDSYNC) {
        req->direct = false;
        return 0;
    }
    bool own_buffer = req->opcode == OP_READ;
    size_t memory = 4096, file = 4096;
    /* Linux block devices need at most a page: page-aligned requests are
     * fine without asking (one statx less per operation). */
    /* At the current position the kernel checks the descriptor's offset. */
    uint64_t offset = req->offset == OFFSET_CURRENT ? 0 : req->offset;
    if (offset % 4096 != 0 || req->nbytes % 4096 != 0 ||
        (!own_buffer && (uintptr_t)req->data % 4096 != 0)) {
        direct_io_alignment(req->fd, &memory, &file);
    }
    if (offset % file != 0 || req->nbytes % file != 0 ||
        (!own_buffer && (uintptr_t)req->data % memory != 0)) {
        if (!fd_is_direct(req->fd)) {
            /* The caller's answer was stale (the descriptor changed): no
             * alignment to demand after all. */
            req->direct = false;
            return 0;
        }
        PyErr_Format(PyExc_ValueError,
                     "O_DIRECT on descriptor %d needs an offset and a length that are "
                     "multiples of %zu and a buffer aligned to %zu bytes; got offset "
                     "%llu, length %zu, buffer at %p (asyncfile.core.aligned_buffer() "
                     "makes one)",
                     req->fd, file, memory, (unsigned long long)req->offset,
                     req->nbytes, (void *)req->data);
        return -1;
    }
    if (own_buffer && req->nbytes > 0) {
        void *bounce = bounce_take(req, memory);
        if (bounce == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        req->bounce = bounce;
        req->data = bounce;
    }
    return 0;
}

/* The kernel read into aligned memory: move it into the bytes object. */
void
request_settle(struct request *req)
{
    if (req->bounce != NULL && req->bytes != NULL && req->result > 0) {
        memcpy(PyBytes_AS_STRING(req->bytes), req->bounce, (size_t)req->result);
    }
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

void
request_table_free(struct request *table, unsigned count)
{
    for (unsigned i = 0; i < count; i++) {
        free(table[i].kept);
    }
    PyMem_RawFree(table);
}

/* A read that may block on a buffered descriptor goes in steps of this size.
 * A kernel without full preemption switches tasks only where its code offers
 * to, such as a system call's end; copying 1 MiB out of the page cache can
 * take a few milliseconds, and a worker the scheduler starts on the loop's CPU
 * holds the loop off for the whole copy; in steps, for one step's copy at
 * most. */
#define READ_STEP ((size_t)128 << 10)

/* Steps would turn one device request into several (each step's readahead
 * waits for the one before): the device is asked for this much at once. */
#define READ_ADVICE_WINDOW ((size_t)8 << 20)

/* One positional transfer of up to `limit` bytes at the request's progress. */
static ssize_t
transfer_chunk(struct request *req, int rw_flags, size_t limit)
{
    size_t remaining = req->nbytes - req->done;
    struct iovec iov = {
        .iov_base = req->data + req->done,
        .iov_len = remaining < limit ? remaining : limit,
    };
#ifdef ASYNCFILE_PORTABLE
    (void)rw_flags; /* always 0: there is no inline path to ask for RWF_NOWAIT */
    if (req->offset == OFFSET_CURRENT) {
        return req->opcode == OP_WRITE ? write(req->fd, iov.iov_base, iov.iov_len)
                                       : read(req->fd, iov.iov_base, iov.iov_len);
    }
    off_t offset = (off_t)(req->offset + req->done);
    if (req->opcode == OP_WRITE) {
        return pwrite(req->fd, iov.iov_base, iov.iov_len, offset);
    }
    return pread(req->fd, iov.iov_base, iov.iov_len, offset);
#else
    /* -1: read(2) or write(2) at the descriptor's position, which moves. */
    off_t offset = req->offset == OFFSET_CURRENT ? (off_t)-1
                                                 : (off_t)(req->offset + req->done);
    if (req->opcode == OP_WRITE) {
        return pwritev2(req->fd, &iov, 1, offset, rw_flags);
    }
    return preadv2(req->fd, &iov, 1, offset, rw_flags);
#endif
}

/* Writes stay whole: a step could let another write to the same range, or
 * another O_APPEND writer, land between two steps.  O_DIRECT reads copy
 * nothing. */
static bool
goes_in_steps(const struct request *req)
{
    return req->opcode != OP_WRITE && !req->direct && req->offset != OFFSET_CURRENT &&
           req->nbytes - req->done > READ_STEP;
}

/* Let a task waiting for this CPU (the loop's thread, woken by a completion)
 * run before this worker goes on.  A worker's system calls do not give up
 * the CPU on a kernel without full preemption, and the scheduler lets the
 * running task finish its slice before a woken one gets the CPU; yielding
 * between steps bounds the wait by one step.  It returns at once when
 * nothing else waits. */
static void
offer_cpu(void)
{
    (void)sched_yield();
}

/* Start the device reading the next window of a stepped read, a step at a
 * time: one call for the whole window allocates and queues all its pages
 * without a break, for longer the larger the window (more so where the host
 * backs freed pages again), and the queue holds the whole window anyway
 * before the first step reads. */
static void
advise_read_ahead(const struct request *req)
{
#ifdef POSIX_FADV_WILLNEED
    size_t remaining = req->nbytes - req->done;
    size_t window = remaining < READ_ADVICE_WINDOW ? remaining : READ_ADVICE_WINDOW;
    for (size_t advised = 0; advised < window; advised += READ_STEP) {
        size_t length = window - advised < READ_STEP ? window - advised : READ_STEP;
        /* Advice only: the steps read what it did not start, and a refusal
         * would be the same for the rest of the window. */
        if (posix_fadvise(req->fd, (off_t)(req->offset + req->done + advised),
                          (off_t)length, POSIX_FADV_WILLNEED) != 0) {
            return;
        }
        offer_cpu();
    }
#else
    (void)req; /* macOS: no posix_fadvise; its own read-ahead follows the steps */
#endif
}

/* fdatasync(2).  macOS declares none (os.fdatasync is missing there too), so
 * it gets fsync(2), which os.fsync calls there as well: the data reaches the
 * drive, but not past the drive's own cache, which only fcntl(F_FULLFSYNC)
 * flushes (slowly, and the caller can ask for it on the descriptor). */
static int
sync_data(int fd)
{
#ifdef __APPLE__
    return fsync(fd);
#else
    return fdatasync(fd);
#endif
}

static int
perform(struct request *req, int rw_flags, bool may_step)
{
    int ret;
    switch (req->opcode) {
    case OP_FSYNC:
    case OP_FDSYNC:
        do {
            ret = req->opcode == OP_FSYNC ? fsync(req->fd) : sync_data(req->fd);
        } while (ret < 0 && errno == EINTR);
        req->result = ret < 0 ? -errno : 0;
        return 0;
    case OP_READ:
    case OP_READINTO:
    case OP_WRITE:
        break;
    default:
        req->result = fs_perform(req);
        return 0;
    }
    bool stepped = may_step && goes_in_steps(req);
    size_t limit = stepped ? READ_STEP : CHUNK_MAX;
    size_t advised_until = req->done;
    while (req->done < req->nbytes) {
        if (stepped && req->done >= advised_until) {
            advise_read_ahead(req);
            advised_until = req->done + READ_ADVICE_WINDOW;
        }
        ssize_t count = transfer_chunk(req, rw_flags, limit);
        if (count < 0 && errno == EINTR) {
            continue;
        }
        if (count < 0) {
            int error = errno;
            req->result = -error;
            /* RWF_NOWAIT, the only flag, asked to hear of a wait. */
            if (rw_flags != 0 && (error == EAGAIN || error == EOPNOTSUPP)) {
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
        if (req->offset == OFFSET_CURRENT && req->opcode != OP_WRITE) {
            break; /* as read(2): what a pipe holds now, not what comes later */
        }
        if (stepped && req->done < req->nbytes) {
            offer_cpu();
        }
    }
    req->result = (int64_t)req->done;
    return 0;
}

int
request_perform(struct request *req, int rw_flags)
{
    return perform(req, rw_flags, false);
}

/* How often a worker waiting for a pipe looks whether its pool is stopping. */
#define READY_POLL_MS 50

/* Wait until a transfer at the current position would not block, or the pool
 * stops (-ECANCELED).  A regular file is ready at once; an error or hang-up
 * counts as ready, for the transfer to report. */
static int
wait_until_ready(const struct request *req, const bool *stopping)
{
    struct pollfd ready = {
        .fd = req->fd,
        .events = req->opcode == OP_WRITE ? POLLOUT : POLLIN,
    };
    for (;;) {
        /* Pairs with the release store in pool_destroy. */
        if (__atomic_load_n(stopping, __ATOMIC_ACQUIRE)) {
            return -ECANCELED;
        }
        int ret = poll(&ready, 1, READY_POLL_MS);
        if (ret > 0 || (ret < 0 && errno != EINTR)) {
            return 0;
        }
    }
}

void
request_perform_in_worker(struct request *req, const bool *stopping)
{
    if (req->offset == OFFSET_CURRENT &&
        (req->opcode == OP_READ || req->opcode == OP_READINTO || req->opcode == OP_WRITE)) {
        int ret = wait_until_ready(req, stopping);
        if (ret < 0) {
            req->result = req->done > 0 ? (int64_t)req->done : ret;
            return;
        }
    }
    (void)perform(req, 0, true);
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
    if (is_fs_opcode(req->opcode)) {
        /* The caller names the paths, as os does: it knows how they came. */
        return PyObject_CallFunction(state->error_from_errno, "i", (int)-req->result);
    }
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
    default:
        return fs_value(state, req);
    }
}
