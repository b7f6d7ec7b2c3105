/*
 * linux_aio: Linux kernel AIO for what the kernel really runs asynchronously.
 *
 * Buffered AIO does the whole read inside io_submit, stalling the loop on a
 * page-cache miss.  Every read and write therefore carries RWF_NOWAIT: a hit
 * completes at once, a miss comes back as EAGAIN (or EOPNOTSUPP where the file
 * system cannot say) and goes to the thread pool.  O_DIRECT stays with the
 * kernel.  Every control block signals the context's eventfd (IOCB_FLAG_RESFD).
 */
#include "core.h"

#include <errno.h>
#include <linux/fs.h>
#include <string.h>
#include <time.h>

#include "syscall.h"

struct kaio {
    aio_context_t aio;
    struct iocb **batch;     /* filled, not yet submitted */
    unsigned batch_len;
    struct io_event *events;
};

/*
 * io_destroy waits for an RCU grace period, which would make every loop
 * that closes a linux_aio context pause that long.  A context closed
 * with nothing in flight is idle and clean, so a few are kept for the next
 * io_setup of the same size.  Touched only with the GIL held; a forked child
 * inherits none of them (AIO contexts are not inherited).
 */
#define IDLE_AIO_MAX 4

static struct {
    aio_context_t aio[IDLE_AIO_MAX];
    unsigned nr_events[IDLE_AIO_MAX];
    unsigned count;
    unsigned fork_generation;
} idle_aio;

static bool
take_idle_aio(unsigned nr_events, aio_context_t *aio)
{
    if (idle_aio.fork_generation != aio_fork_generation) {
        idle_aio.count = 0; /* the parent's, not ours */
        idle_aio.fork_generation = aio_fork_generation;
    }
    for (unsigned i = 0; i < idle_aio.count; i++) {
        if (idle_aio.nr_events[i] == nr_events) {
            *aio = idle_aio.aio[i];
            idle_aio.count--;
            idle_aio.aio[i] = idle_aio.aio[idle_aio.count];
            idle_aio.nr_events[i] = idle_aio.nr_events[idle_aio.count];
            return true;
        }
    }
    return false;
}

static bool
keep_idle_aio(unsigned nr_events, aio_context_t aio)
{
    if (idle_aio.fork_generation != aio_fork_generation ||
        idle_aio.count == IDLE_AIO_MAX) {
        return false;
    }
    idle_aio.aio[idle_aio.count] = aio;
    idle_aio.nr_events[idle_aio.count] = nr_events;
    idle_aio.count++;
    return true;
}

static int
kaio_open(struct context *ctx)
{
    struct kaio *kaio = PyMem_RawCalloc(1, sizeof(*kaio));
    if (kaio == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    kaio->batch = PyMem_RawCalloc(ctx->max_requests, sizeof(*kaio->batch));
    kaio->events = PyMem_RawCalloc(ctx->max_requests, sizeof(*kaio->events));
    if (kaio->batch == NULL || kaio->events == NULL) {
        PyErr_NoMemory();
        goto err;
    }
    int ret = take_idle_aio(ctx->max_requests, &kaio->aio)
                  ? 0
                  : sys_io_setup(ctx->max_requests, &kaio->aio);
    if (ret < 0) {
        PyMem_RawFree(kaio->batch);
        PyMem_RawFree(kaio->events);
        PyMem_RawFree(kaio);
        return ret;
    }
    ctx->pool = pool_create(ctx->wake_fd, ctx->pool_size);
    if (ctx->pool == NULL) {
        sys_io_destroy(kaio->aio);
        PyErr_NoMemory();
        goto err;
    }
    ctx->impl = kaio;
    return 0;
err:
    PyMem_RawFree(kaio->batch);
    PyMem_RawFree(kaio->events);
    PyMem_RawFree(kaio);
    return -1;
}

static void
prepare_iocb(struct context *ctx, struct request *req)
{
    struct iocb *cb = &req->iocb;
    memset(cb, 0, sizeof(*cb));
    cb->aio_data = (uint64_t)(uintptr_t)req;
    cb->aio_fildes = (uint32_t)req->fd;
    cb->aio_flags = IOCB_FLAG_RESFD;
    cb->aio_resfd = (uint32_t)ctx->eventfd;
    switch (req->opcode) {
    case OP_READ:
    case OP_READINTO:
    case OP_WRITE: {
        size_t remaining = req->nbytes - req->done;
        cb->aio_lio_opcode = req->opcode == OP_WRITE ? IOCB_CMD_PWRITE : IOCB_CMD_PREAD;
        cb->aio_buf = (uint64_t)(uintptr_t)(req->data + req->done);
        cb->aio_nbytes = remaining < CHUNK_MAX ? remaining : CHUNK_MAX;
        cb->aio_offset = (int64_t)(req->offset + req->done);
        cb->aio_rw_flags = RWF_NOWAIT;
        break;
    }
    case OP_FSYNC:
        cb->aio_lio_opcode = IOCB_CMD_FSYNC;
        break;
    case OP_FDSYNC:
        cb->aio_lio_opcode = IOCB_CMD_FDSYNC;
        break;
    default:
        break; /* filesystem calls go to the pool (belongs_to_pool) */
    }
}

static int
send_to_pool(struct context *ctx, struct request *req)
{
    req->via_pool = true;
    return pool_enqueue(ctx->pool, req);
}

/* Buffered I/O that Linux AIO would do inside io_submit, on the loop thread:
 * writes (which RWF_NOWAIT refuses anyway), reads the inline path already found
 * uncached, and copies too big to make on the loop. */
static bool
belongs_to_pool(struct request *req)
{
    if (is_fs_opcode(req->opcode)) {
        return true; /* Linux AIO has no filesystem calls */
    }
    if (req->opcode == OP_FSYNC || req->opcode == OP_FDSYNC) {
        return false;
    }
    /* Linux AIO has no "current position" (a pipe): the pool reads it. */
    if (req->offset == OFFSET_CURRENT) {
        return true;
    }
    if (req->direct) {
        return false;
    }
    return req->opcode == OP_WRITE || req->missed_cache ||
           req->nbytes - req->done > INLINE_MAX;
}

static int
kaio_start(struct context *ctx, struct request *req)
{
    struct kaio *kaio = ctx->impl;
    if (belongs_to_pool(req)) {
        return send_to_pool(ctx, req);
    }
    prepare_iocb(ctx, req);
    req->state = REQ_RUNNING;
    kaio->batch[kaio->batch_len++] = &req->iocb;
    return 0;
}

/* The kernel would have blocked: the pool takes it from where it got to. */
static bool
would_block(int res)
{
    return res == -EAGAIN || res == -EOPNOTSUPP;
}

static int
kaio_flush(struct context *ctx)
{
    struct kaio *kaio = ctx->impl;
    int submitted = 0;
    while (kaio->batch_len > 0) {
        int ret;
        Py_BEGIN_ALLOW_THREADS
        ret = sys_io_submit(kaio->aio, kaio->batch_len, kaio->batch);
        Py_END_ALLOW_THREADS
        ctx->submit_calls++;
        if (ret == -EINTR) {
            continue;
        }
        unsigned accepted = ret > 0 ? (unsigned)ret : 0;
        if (ret <= 0) {
            /* The first control block was refused: finish it here and go on
             * with the rest. */
            struct request *req = (struct request *)(uintptr_t)kaio->batch[0]->aio_data;
            accepted = 1;
            if (would_block(ret) || ret == 0) {
                if (send_to_pool(ctx, req) < 0) {
                    context_complete(ctx, req, -EAGAIN);
                }
            }
            else {
                context_complete(ctx, req, req->done > 0 ? (int64_t)req->done : ret);
            }
        }
        else {
            submitted += ret;
        }
        kaio->batch_len -= accepted;
        memmove(kaio->batch, kaio->batch + accepted, kaio->batch_len * sizeof(*kaio->batch));
    }
    return submitted;
}

static void
handle_event(struct context *ctx, struct request *req, int64_t res)
{
    if (req->opcode == OP_FSYNC || req->opcode == OP_FDSYNC) {
        context_complete(ctx, req, res);
        return;
    }
    if (would_block((int)res)) {
        if (!ctx->closed && send_to_pool(ctx, req) == 0) {
            return;
        }
        /* Nothing more was transferred: what did not start is cancelled. */
        res = -ECANCELED;
    }
    if (res < 0) {
        context_complete(ctx, req, req->done > 0 ? (int64_t)req->done : res);
        return;
    }
    req->done += (size_t)res;
    /* RWF_NOWAIT may stop short at the first uncached page: continue until
     * the end of the request or of the file. */
    if (res > 0 && req->done < req->nbytes && !ctx->closed) {
        kaio_start(ctx, req);
        return;
    }
    context_complete(ctx, req, (int64_t)req->done);
}

static int
kaio_reap(struct context *ctx, int min_wait, int64_t timeout_ns)
{
    struct kaio *kaio = ctx->impl;
    int count = context_take_pool_done(ctx);
    int64_t deadline = timeout_ns < 0 ? -1 : monotonic_ns() + timeout_ns;
    for (;;) {
        struct timespec ts = {0, 0};
        int wait = min_wait > count ? min_wait - count : 0;
        if (wait > 0 && deadline >= 0) {
            int64_t left = deadline - monotonic_ns();
            left = left > 0 ? left : 0;
            left = left < POOL_POLL_NS ? left : POOL_POLL_NS;
            ts.tv_sec = left / 1000000000;
            ts.tv_nsec = left % 1000000000;
        }
        else if (wait > 0) {
            ts.tv_nsec = POOL_POLL_NS;
        }
        int ret;
        Py_BEGIN_ALLOW_THREADS
        ret = sys_io_getevents(kaio->aio, wait > 0 ? 1 : 0, ctx->max_requests,
                               kaio->events, &ts);
        Py_END_ALLOW_THREADS
        if (ret < 0) {
            return ret;
        }
        for (int i = 0; i < ret; i++) {
            struct request *req = (struct request *)(uintptr_t)kaio->events[i].data;
            handle_event(ctx, req, kaio->events[i].res);
            count += req->state == REQ_COMPLETED;
        }
        count += context_take_pool_done(ctx);
        if (count >= min_wait || (deadline >= 0 && monotonic_ns() >= deadline)) {
            break;
        }
    }
    kaio_flush(ctx); /* continuations of short transfers */
    return count;
}

static bool
kaio_cancel(struct context *ctx, struct request *req)
{
    struct kaio *kaio = ctx->impl;
    if (req->via_pool) {
        return context_cancel_in_pool(ctx, req);
    }
    for (unsigned i = 0; i < kaio->batch_len; i++) {
        if (kaio->batch[i] == &req->iocb) {
            kaio->batch_len--;
            memmove(kaio->batch + i, kaio->batch + i + 1,
                    (kaio->batch_len - i) * sizeof(*kaio->batch));
            context_complete(ctx, req, -ECANCELED);
            return true;
        }
    }
    struct io_event event;
    if (sys_io_cancel(kaio->aio, &req->iocb, &event) == 0) {
        context_complete(ctx, req, -ECANCELED);
        return true;
    }
    return false;
}

static void
free_kaio(struct kaio *kaio)
{
    PyMem_RawFree(kaio->batch);
    PyMem_RawFree(kaio->events);
    PyMem_RawFree(kaio);
}

static void
kaio_close(struct context *ctx)
{
    struct kaio *kaio = ctx->impl;
    kaio_reap(ctx, 0, 0);
    for (unsigned i = 0; i < kaio->batch_len; i++) {
        struct request *req = (struct request *)(uintptr_t)kaio->batch[i]->aio_data;
        context_complete(ctx, req, -ECANCELED);
    }
    kaio->batch_len = 0;
    unsigned with_kernel = 0;
    for (unsigned i = 0; i < ctx->max_requests; i++) {
        with_kernel += ctx->requests[i].state == REQ_RUNNING && !ctx->requests[i].via_pool;
    }
    bool kept = with_kernel == 0 && keep_idle_aio(ctx->max_requests, kaio->aio);
    context_close_pool(ctx);
    if (!kept) {
        Py_BEGIN_ALLOW_THREADS
        /* Waits for the control blocks in flight; their events are discarded. */
        sys_io_destroy(kaio->aio);
        Py_END_ALLOW_THREADS
    }
    for (unsigned i = 0; i < ctx->max_requests; i++) {
        if (ctx->requests[i].state == REQ_RUNNING) {
            context_complete(ctx, &ctx->requests[i], -ECANCELED);
        }
    }
    free_kaio(kaio);
    ctx->impl = NULL;
}

static void
kaio_abandon(struct context *ctx)
{
    /* A child does not inherit AIO contexts; the pool's threads stayed behind. */
    pool_abandon(ctx->pool);
    ctx->pool = NULL;
    free_kaio(ctx->impl);
    ctx->impl = NULL;
}

const struct backend kaio_backend = {
    .name = "linux_aio",
    .open = kaio_open,
    .close = kaio_close,
    .abandon = kaio_abandon,
    .start = kaio_start,
    .flush = kaio_flush,
    .reap = kaio_reap,
    .cancel = kaio_cancel,
};
