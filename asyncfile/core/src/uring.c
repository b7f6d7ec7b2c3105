/*
 * linux_uring: io_uring through the raw system calls.
 *
 * One ring per context, its eventfd registered with IORING_REGISTER_EVENTFD
 * (never the _ASYNC variant, which did not fire for file reads).  Requests carry
 * their slot's address as user_data; cancellations carry CANCEL_TAG so their
 * own completions are skipped.
 *
 * Buffered reads too big to copy on the loop thread go to the thread pool, not
 * to io-wq: a pool worker copies in steps the scheduler can preempt (see
 * request.c), which io-wq's copy is not: the loop then waits for one step at
 * most.
 *
 * Pointers into memory shared with the kernel start with `k`.  The kernel
 * writes the SQ head and the CQ tail, we write the SQ tail and the CQ head:
 * each side publishes with a release store and reads the other's index with an
 * acquire load, as liburing does.
 */
#include "core.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>

#include "syscall.h"

#define CANCEL_TAG 0
#define CLOSE_WAIT_NS (5LL * 1000 * 1000 * 1000)

struct uring {
    int ring_fd;
    unsigned features;
    bool sqpoll;
    /* submission queue */
    void *sq_map;
    size_t sq_map_size;
    unsigned *khead;
    unsigned *ktail;
    unsigned *kflags;
    unsigned *karray;
    unsigned sq_mask;
    unsigned sq_entries;
    struct io_uring_sqe *ksqes;
    size_t sqes_size;
    unsigned sqe_tail;       /* SQEs filled locally, published at flush */
    unsigned to_submit;      /* published, not yet passed to io_uring_enter */
    /* completion queue */
    void *cq_map;
    size_t cq_map_size;
    unsigned *kcq_head;
    unsigned *kcq_tail;
    struct io_uring_cqe *kcqes;
    unsigned cq_mask;
    unsigned in_pool;        /* requests handed to the thread pool */
    uint32_t fs_on_ring;     /* bit (1 << opcode): filesystem calls the ring runs */
};

/* Linux 6.9's opcode, by number: older kernel headers lack the name; the
 * probe below says whether the running kernel has it. */
#define RING_OP_FTRUNCATE 55

/* The filesystem calls io_uring can run, and its opcode for each. */
static const struct {
    enum opcode opcode;
    unsigned char uring_opcode;
    const char *name;
} ring_fs_ops[] = {
    {OP_OPENAT, IORING_OP_OPENAT, "openat"},
    {OP_CLOSE, IORING_OP_CLOSE, "close"},
    {OP_STATX, IORING_OP_STATX, "statx"},
    {OP_RENAMEAT, IORING_OP_RENAMEAT, "renameat"},
    {OP_UNLINKAT, IORING_OP_UNLINKAT, "unlinkat"},
    {OP_MKDIRAT, IORING_OP_MKDIRAT, "mkdirat"},
    {OP_SYMLINKAT, IORING_OP_SYMLINKAT, "symlinkat"},
    {OP_LINKAT, IORING_OP_LINKAT, "linkat"},
    {OP_FTRUNCATE, RING_OP_FTRUNCATE, "ftruncate"},
    {OP_FALLOCATE, IORING_OP_FALLOCATE, "fallocate"},
};
#define RING_FS_OPS (sizeof(ring_fs_ops) / sizeof(ring_fs_ops[0]))

/* For the tests of the fallbacks only: a comma-separated list of the names
 * above (or "all") that a new ring treats as missing from the kernel, so
 * that those calls run on the pool. */
#define WITHOUT_ENV "ASYNCFILE_TEST_URING_WITHOUT"

static bool
named_in(const char *list, const char *name)
{
    size_t length = strlen(name);
    for (const char *p = list; *p != '\0';) {
        const char *end = strchr(p, ',');
        size_t item = end != NULL ? (size_t)(end - p) : strlen(p);
        if ((item == length && strncmp(p, name, length) == 0) ||
            (item == 3 && strncmp(p, "all", 3) == 0)) {
            return true;
        }
        p += item + (end != NULL);
    }
    return false;
}

/* Which filesystem calls the running kernel's io_uring has (one
 * IORING_REGISTER_PROBE); none when it cannot say. */
static uint32_t
probe_fs_ops(int ring_fd)
{
    size_t size = sizeof(struct io_uring_probe) + 256 * sizeof(struct io_uring_probe_op);
    struct io_uring_probe *probe = PyMem_RawCalloc(1, size);
    if (probe == NULL) {
        return 0;
    }
    uint32_t supported = 0;
    if (sys_io_uring_register(ring_fd, IORING_REGISTER_PROBE, probe, 256) == 0) {
        const char *without = getenv(WITHOUT_ENV);
        for (size_t i = 0; i < RING_FS_OPS; i++) {
            unsigned char op = ring_fs_ops[i].uring_opcode;
            if (op <= probe->last_op && (probe->ops[op].flags & IO_URING_OP_SUPPORTED) &&
                (without == NULL || !named_in(without, ring_fs_ops[i].name))) {
                supported |= (uint32_t)1 << ring_fs_ops[i].opcode;
            }
        }
    }
    PyMem_RawFree(probe);
    return supported;
}

PyObject *
uring_fs_calls(struct context *ctx)
{
    struct uring *ring = ctx->impl;
    PyObject *names = PyFrozenSet_New(NULL);
    for (size_t i = 0; names != NULL && ring != NULL && i < RING_FS_OPS; i++) {
        if (ring->fs_on_ring & ((uint32_t)1 << ring_fs_ops[i].opcode)) {
            PyObject *name = PyUnicode_FromString(ring_fs_ops[i].name);
            if (name == NULL || PySet_Add(names, name) < 0) {
                Py_CLEAR(names);
            }
            Py_XDECREF(name);
        }
    }
    return names;
}

static inline unsigned
load_acquire(const unsigned *p)
{
    return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline void
store_release(unsigned *p, unsigned v)
{
    __atomic_store_n(p, v, __ATOMIC_RELEASE);
}

static void
unmap_rings(struct uring *ring)
{
    if (ring->ksqes != NULL) {
        munmap(ring->ksqes, ring->sqes_size);
    }
    if (ring->cq_map != NULL && ring->cq_map != ring->sq_map) {
        munmap(ring->cq_map, ring->cq_map_size);
    }
    if (ring->sq_map != NULL) {
        munmap(ring->sq_map, ring->sq_map_size);
    }
    ring->ksqes = NULL;
    ring->cq_map = ring->sq_map = NULL;
}

static int
map_rings(struct uring *ring, struct io_uring_params *p)
{
    ring->sq_map_size = p->sq_off.array + p->sq_entries * sizeof(unsigned);
    ring->cq_map_size = p->cq_off.cqes + p->cq_entries * sizeof(struct io_uring_cqe);
    if (p->features & IORING_FEAT_SINGLE_MMAP) {
        if (ring->cq_map_size > ring->sq_map_size) {
            ring->sq_map_size = ring->cq_map_size;
        }
        ring->cq_map_size = ring->sq_map_size;
    }
    ring->sq_map = mmap(NULL, ring->sq_map_size, PROT_READ | PROT_WRITE,
                        MAP_SHARED | MAP_POPULATE, ring->ring_fd, IORING_OFF_SQ_RING);
    if (ring->sq_map == MAP_FAILED) {
        ring->sq_map = NULL;
        return -errno;
    }
    if (p->features & IORING_FEAT_SINGLE_MMAP) {
        ring->cq_map = ring->sq_map;
    }
    else {
        ring->cq_map = mmap(NULL, ring->cq_map_size, PROT_READ | PROT_WRITE,
                            MAP_SHARED | MAP_POPULATE, ring->ring_fd, IORING_OFF_CQ_RING);
        if (ring->cq_map == MAP_FAILED) {
            ring->cq_map = NULL;
            return -errno;
        }
    }
    ring->sqes_size = p->sq_entries * sizeof(struct io_uring_sqe);
    ring->ksqes = mmap(NULL, ring->sqes_size, PROT_READ | PROT_WRITE,
                       MAP_SHARED | MAP_POPULATE, ring->ring_fd, IORING_OFF_SQES);
    if (ring->ksqes == MAP_FAILED) {
        ring->ksqes = NULL;
        return -errno;
    }
    char *sq = ring->sq_map, *cq = ring->cq_map;
    ring->khead = (unsigned *)(sq + p->sq_off.head);
    ring->ktail = (unsigned *)(sq + p->sq_off.tail);
    ring->kflags = (unsigned *)(sq + p->sq_off.flags);
    ring->karray = (unsigned *)(sq + p->sq_off.array);
    ring->sq_mask = *(unsigned *)(sq + p->sq_off.ring_mask);
    ring->sq_entries = p->sq_entries;
    ring->kcq_head = (unsigned *)(cq + p->cq_off.head);
    ring->kcq_tail = (unsigned *)(cq + p->cq_off.tail);
    ring->kcqes = (struct io_uring_cqe *)(cq + p->cq_off.cqes);
    ring->cq_mask = *(unsigned *)(cq + p->cq_off.ring_mask);
    ring->sqe_tail = *ring->ktail;
    return 0;
}

static int
setup_ring(struct uring *ring, unsigned entries, bool sqpoll)
{
    struct io_uring_params params;
    memset(&params, 0, sizeof(params));
    params.flags = IORING_SETUP_CLAMP | (sqpoll ? IORING_SETUP_SQPOLL : 0);
    params.sq_thread_idle = 100;
    /* Completions never outnumber the slots, plus the cancellations. */
    params.flags |= IORING_SETUP_CQSIZE;
    params.cq_entries = entries * 2;
    int fd;
    Py_BEGIN_ALLOW_THREADS
    fd = sys_io_uring_setup(entries, &params);
    Py_END_ALLOW_THREADS
    if (fd < 0) {
        return fd;
    }
    ring->ring_fd = fd;
    ring->features = params.features;
    ring->sqpoll = (params.flags & IORING_SETUP_SQPOLL) != 0;
    int ret = map_rings(ring, &params);
    if (ret < 0) {
        unmap_rings(ring);
        close(fd);
        ring->ring_fd = -1;
    }
    return ret;
}

static int
uring_open(struct context *ctx)
{
    struct uring *ring = PyMem_RawCalloc(1, sizeof(*ring));
    if (ring == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    ring->ring_fd = -1;
    unsigned entries = ctx->max_requests + 8;
    int ret = setup_ring(ring, entries, ctx->sqpoll_requested);
    if (ret < 0 && ctx->sqpoll_requested && (ret == -EPERM || ret == -EINVAL)) {
        ret = setup_ring(ring, entries, false); /* SQPOLL is a wish, not a need */
    }
    if (ret < 0) {
        goto err;
    }
    ret = sys_io_uring_register(ring->ring_fd, IORING_REGISTER_EVENTFD, &ctx->eventfd, 1);
    if (ret < 0) {
        unmap_rings(ring);
        close(ring->ring_fd);
        goto err;
    }
    ctx->pool = pool_create(ctx->wake_fd, ctx->pool_size);
    if (ctx->pool == NULL) {
        unmap_rings(ring);
        close(ring->ring_fd);
        PyErr_NoMemory();
        ret = -1;
        goto err;
    }
    ring->fs_on_ring = probe_fs_ops(ring->ring_fd);
    ctx->sqpoll_active = ring->sqpoll;
    ctx->impl = ring;
    return 0;
err:
    PyMem_RawFree(ring);
    return ret;
}

/* A free SQE, or NULL when the submission queue is full. */
static struct io_uring_sqe *
get_sqe(struct uring *ring)
{
    unsigned head = load_acquire(ring->khead);
    if (ring->sqe_tail - head >= ring->sq_entries) {
        return NULL;
    }
    struct io_uring_sqe *sqe = &ring->ksqes[ring->sqe_tail & ring->sq_mask];
    ring->karray[ring->sqe_tail & ring->sq_mask] = ring->sqe_tail & ring->sq_mask;
    ring->sqe_tail++;
    memset(sqe, 0, sizeof(*sqe));
    return sqe;
}

/* Make the filled SQEs visible to the kernel (pairs with its acquire of the
 * SQ tail). */
static void
publish_sqes(struct uring *ring)
{
    unsigned tail = *ring->ktail;
    if (tail != ring->sqe_tail) {
        ring->to_submit += ring->sqe_tail - tail;
        store_release(ring->ktail, ring->sqe_tail);
    }
}

static int
enter(struct uring *ring, unsigned to_submit, unsigned min_complete, unsigned flags,
      int64_t timeout_ns)
{
    int ret;
    struct __kernel_timespec ts;
    struct io_uring_getevents_arg arg;
    bool timed = min_complete > 0 && timeout_ns >= 0;
    if (timed) {
        ts.tv_sec = timeout_ns / 1000000000;
        ts.tv_nsec = timeout_ns % 1000000000;
        memset(&arg, 0, sizeof(arg));
        arg.ts = (uint64_t)(uintptr_t)&ts;
        flags |= IORING_ENTER_EXT_ARG;
    }
    Py_BEGIN_ALLOW_THREADS
    do {
        if (timed) {
            ret = (int)negative_errno(syscall(__NR_io_uring_enter, ring->ring_fd,
                                              to_submit, min_complete, flags, &arg,
                                              sizeof(arg)));
        }
        else {
            ret = sys_io_uring_enter(ring->ring_fd, to_submit, min_complete, flags);
        }
    } while (ret == -EINTR);
    Py_END_ALLOW_THREADS
    return ret == -ETIME ? 0 : ret;
}

static int
uring_flush(struct context *ctx)
{
    struct uring *ring = ctx->impl;
    publish_sqes(ring);
    if (ring->to_submit == 0) {
        return 0;
    }
    unsigned submitting = ring->to_submit;
    if (ring->sqpoll) {
        ring->to_submit = 0;
        if (load_acquire(ring->kflags) & IORING_SQ_NEED_WAKEUP) {
            int ret = enter(ring, 0, 0, IORING_ENTER_SQ_WAKEUP, -1);
            if (ret < 0) {
                return ret;
            }
        }
        return (int)submitting;
    }
    int ret = enter(ring, submitting, 0, 0, -1);
    if (ret < 0) {
        return ret;
    }
    ctx->submit_calls++;
    ring->to_submit -= (unsigned)ret;
    return ret;
}

/* A write to a terminal waits inside io_uring_enter, on the loop's thread:
 * the tty layer waits for room without looking at IOCB_NOWAIT.  Its reads,
 * pipes and sockets honour it, and the kernel polls them instead. */
static bool
write_waits_in_submit(int fd)
{
    struct stat st;
    return fstat(fd, &st) == 0 && S_ISCHR(st.st_mode);
}

static void
prepare_transfer(struct io_uring_sqe *sqe, struct request *req)
{
    size_t remaining = req->nbytes - req->done;
    sqe->opcode = req->opcode == OP_WRITE ? IORING_OP_WRITE : IORING_OP_READ;
    sqe->fd = req->fd;
    /* OFFSET_CURRENT is io_uring's -1: the descriptor's position. */
    sqe->off = req->offset == OFFSET_CURRENT ? OFFSET_CURRENT : req->offset + req->done;
    sqe->addr = (uint64_t)(uintptr_t)(req->data + req->done);
    sqe->len = (unsigned)(remaining < CHUNK_MAX ? remaining : CHUNK_MAX);
    /* A pipe is never forced to io-wq: the kernel then waits for it with a
     * poll (cancellable, no thread held) instead of a blocked worker. */
    if (req->offset == OFFSET_CURRENT) {
        if (req->opcode == OP_WRITE && write_waits_in_submit(req->fd)) {
            sqe->flags |= IOSQE_ASYNC;
        }
    }
    else if (remaining > INLINE_MAX) {
        /* A big copy inside io_uring_enter would hold the loop thread. */
        sqe->flags |= IOSQE_ASYNC;
    }
}

/* A filesystem call on the ring (see liburing's io_uring_prep_* for where
 * each argument goes). */
static void
prepare_fs(struct io_uring_sqe *sqe, struct request *req)
{
    const char *path = req->path != NULL ? PyBytes_AS_STRING(req->path) : "";
    uint64_t path2 = req->path2 != NULL ? (uint64_t)(uintptr_t)PyBytes_AS_STRING(req->path2)
                                        : 0;
    sqe->fd = req->fd;
    sqe->addr = (uint64_t)(uintptr_t)path;
    switch (req->opcode) {
    case OP_OPENAT:
        sqe->opcode = IORING_OP_OPENAT;
        sqe->len = req->mode;
        sqe->open_flags = (unsigned)(req->flags | O_CLOEXEC);
        break;
    case OP_CLOSE:
        sqe->opcode = IORING_OP_CLOSE;
        sqe->addr = 0;
        break;
    case OP_STATX:
        sqe->opcode = IORING_OP_STATX;
        sqe->len = STATX_BASIC_STATS;
        sqe->off = (uint64_t)(uintptr_t)&req->stx;
        sqe->statx_flags = (unsigned)(req->flags | (req->path == NULL ? AT_EMPTY_PATH : 0));
        break;
    case OP_RENAMEAT:
        sqe->opcode = IORING_OP_RENAMEAT;
        sqe->len = (unsigned)req->fd2;
        sqe->off = path2;
        break;
    case OP_UNLINKAT:
        sqe->opcode = IORING_OP_UNLINKAT;
        sqe->unlink_flags = (unsigned)req->flags;
        break;
    case OP_MKDIRAT:
        sqe->opcode = IORING_OP_MKDIRAT;
        sqe->len = req->mode;
        break;
    case OP_SYMLINKAT:
        sqe->opcode = IORING_OP_SYMLINKAT;
        sqe->off = path2;
        break;
    case OP_LINKAT:
        sqe->opcode = IORING_OP_LINKAT;
        sqe->len = (unsigned)req->fd2;
        sqe->off = path2;
        sqe->hardlink_flags = (unsigned)req->flags;
        break;
    case OP_FTRUNCATE:
        sqe->opcode = RING_OP_FTRUNCATE;
        sqe->addr = 0;
        sqe->off = req->offset;
        break;
    case OP_FALLOCATE:
        /* fallocate(2) with mode 0; the Python layer hands EOPNOTSUPP to
         * posix_fallocate, which then writes the zeros itself. */
        sqe->opcode = IORING_OP_FALLOCATE;
        sqe->addr = fs_fallocate_length(req);
        sqe->off = req->offset;
        sqe->len = 0;
        break;
    default:
        break; /* never: belongs_to_pool sent it to the pool */
    }
}

/* io_uring reads a FUSE file that bypasses the page cache (direct_io, or
 * O_DIRECT) as asynchronous direct I/O on io-wq, and Linux (6.18 here) then
 * reports a read that stops at the end of the file as longer than it is
 * (5 bytes as 645), counting bytes it never wrote.  preadv on the pool
 * reports it right.  A read whose RWF_NOWAIT attempt found the page cache
 * cold is on a file system with RWF_NOWAIT, which FUSE lacks: no need to ask. */
static bool
read_is_on_fuse(const struct request *req)
{
    if (req->missed_cache) {
        return false;
    }
    struct statfs fs;
    return fstatfs(req->fd, &fs) == 0 && fs.f_type == FUSE_SUPER_MAGIC;
}

static bool
belongs_to_pool(const struct uring *ring, const struct request *req)
{
    if (is_fs_opcode(req->opcode)) {
        return !(ring->fs_on_ring & ((uint32_t)1 << req->opcode));
    }
    if (req->opcode != OP_READ && req->opcode != OP_READINTO) {
        return false;
    }
    /* At the current position the ring waits for a pipe without a thread. */
    if (!req->direct && req->offset != OFFSET_CURRENT &&
        req->nbytes - req->done > INLINE_MAX) {
        return true;
    }
    return read_is_on_fuse(req);
}

static int
send_to_pool(struct context *ctx, struct request *req)
{
    struct uring *ring = ctx->impl;
    req->via_pool = true;
    int ret = pool_enqueue(ctx->pool, req);
    ring->in_pool += ret == 0;
    return ret;
}

/* Complete what the pool has finished; returns how many. */
static int
take_pool_done(struct context *ctx)
{
    struct uring *ring = ctx->impl;
    if (ring->in_pool == 0) {
        return 0; /* nothing to take, and no lock to take for it */
    }
    int count = context_take_pool_done(ctx);
    ring->in_pool -= (unsigned)count;
    return count;
}

static int
uring_start(struct context *ctx, struct request *req)
{
    struct uring *ring = ctx->impl;
    if (belongs_to_pool(ring, req)) {
        return send_to_pool(ctx, req);
    }
    struct io_uring_sqe *sqe = get_sqe(ring);
    if (sqe == NULL) {
        int ret = uring_flush(ctx);
        if (ret < 0) {
            return ret;
        }
        sqe = get_sqe(ring);
        if (sqe == NULL) {
            return -EAGAIN;
        }
    }
    switch (req->opcode) {
    case OP_READ:
    case OP_READINTO:
    case OP_WRITE:
        prepare_transfer(sqe, req);
        break;
    case OP_FSYNC:
    case OP_FDSYNC:
        sqe->opcode = IORING_OP_FSYNC;
        sqe->fd = req->fd;
        sqe->fsync_flags = req->opcode == OP_FDSYNC ? IORING_FSYNC_DATASYNC : 0;
        break;
    default:
        prepare_fs(sqe, req);
        break;
    }
    sqe->user_data = (uint64_t)(uintptr_t)req;
    req->state = REQ_RUNNING;
    return 0;
}

/* Account one completion of `req`; continue a transfer the kernel capped. */
static void
handle_completion(struct context *ctx, struct request *req, int res)
{
    if (req->opcode == OP_FSYNC || req->opcode == OP_FDSYNC || is_fs_opcode(req->opcode)) {
        context_complete(ctx, req, res);
        return;
    }
    if (res < 0) {
        context_complete(ctx, req, req->done > 0 ? (int64_t)req->done : res);
        return;
    }
    size_t remaining = req->nbytes - req->done;
    size_t submitted = remaining < CHUNK_MAX ? remaining : CHUNK_MAX;
    req->done += (size_t)res;
    /* A read at the current position is one read(2), short on a pipe. */
    bool more = req->done < req->nbytes && res > 0 &&
                (req->opcode == OP_WRITE ||
                 ((size_t)res == submitted && req->offset != OFFSET_CURRENT));
    if (more && !ctx->closed && uring_start(ctx, req) == 0) {
        return;
    }
    context_complete(ctx, req, (int64_t)req->done);
}

static int
reap_cq(struct context *ctx)
{
    struct uring *ring = ctx->impl;
    unsigned head = *ring->kcq_head;
    unsigned tail = load_acquire(ring->kcq_tail);
    int count = 0;
    for (; head != tail; head++) {
        struct io_uring_cqe *cqe = &ring->kcqes[head & ring->cq_mask];
        struct request *req = (struct request *)(uintptr_t)cqe->user_data;
        if (req != CANCEL_TAG) {
            handle_completion(ctx, req, cqe->res);
            count += req->state == REQ_COMPLETED;
        }
    }
    /* Give the CQEs back to the kernel (pairs with its acquire of the head). */
    store_release(ring->kcq_head, head);
    return count;
}

static int
uring_reap(struct context *ctx, int min_wait, int64_t timeout_ns)
{
    struct uring *ring = ctx->impl;
    int count = reap_cq(ctx) + take_pool_done(ctx);
    int64_t deadline = timeout_ns < 0 ? -1 : monotonic_ns() + timeout_ns;
    while (count < min_wait) {
        int64_t wait_ns = -1;
        if (deadline >= 0) {
            wait_ns = deadline - monotonic_ns();
            wait_ns = wait_ns > 0 ? wait_ns : 0;
        }
        if (ring->in_pool > 0 && (wait_ns < 0 || wait_ns > POOL_POLL_NS)) {
            wait_ns = POOL_POLL_NS;
        }
        publish_sqes(ring);
        int ret = enter(ring, ring->sqpoll ? 0 : ring->to_submit,
                        (unsigned)(min_wait - count), IORING_ENTER_GETEVENTS, wait_ns);
        if (ret < 0) {
            return ret;
        }
        if (!ring->sqpoll) {
            ring->to_submit -= (unsigned)ret < ring->to_submit ? (unsigned)ret
                                                                : ring->to_submit;
        }
        count += reap_cq(ctx) + take_pool_done(ctx);
        if (deadline >= 0 && monotonic_ns() >= deadline) {
            break;
        }
    }
    uring_flush(ctx); /* continuations of capped transfers */
    return count;
}

static bool
uring_cancel(struct context *ctx, struct request *req)
{
    struct uring *ring = ctx->impl;
    if (req->via_pool) {
        bool cancelled = context_cancel_in_pool(ctx, req);
        ring->in_pool -= cancelled;
        return cancelled;
    }
    if (req->state != REQ_RUNNING) {
        return false;
    }
    struct io_uring_sqe *sqe = get_sqe(ring);
    if (sqe == NULL) {
        return false;
    }
    sqe->opcode = IORING_OP_ASYNC_CANCEL;
    sqe->fd = -1;
    sqe->addr = (uint64_t)(uintptr_t)req;
    sqe->user_data = CANCEL_TAG;
    req->cancelled = true;
    uring_flush(ctx);
    return true;
}

static void
release_ring(struct uring *ring)
{
    unmap_rings(ring);
    close(ring->ring_fd);
    PyMem_RawFree(ring);
}

static void
uring_close(struct context *ctx)
{
    struct uring *ring = ctx->impl;
    context_close_pool(ctx); /* waits for what the pool runs, cancels the rest */
    ring->in_pool = 0;
    uring_flush(ctx);
    if (ctx->in_flight > 0) {
        /* Ask the kernel to cancel everything, then wait for every request
         * to come back: closing the ring alone would let io-wq workers write
         * into buffers after we freed them. */
        struct io_uring_sqe *sqe = get_sqe(ring);
        if (sqe != NULL) {
            sqe->opcode = IORING_OP_ASYNC_CANCEL;
            sqe->fd = -1;
            sqe->cancel_flags = IORING_ASYNC_CANCEL_ANY;
            sqe->user_data = CANCEL_TAG;
        }
        int64_t deadline = monotonic_ns() + CLOSE_WAIT_NS;
        unsigned outstanding = 0;
        for (unsigned i = 0; i < ctx->max_requests; i++) {
            outstanding += ctx->requests[i].state == REQ_RUNNING;
        }
        while (outstanding > 0 && monotonic_ns() < deadline) {
            int ret = uring_reap(ctx, (int)outstanding, deadline - monotonic_ns());
            if (ret < 0) {
                break;
            }
            outstanding -= (unsigned)ret < outstanding ? (unsigned)ret : outstanding;
        }
    }
    sys_io_uring_register(ring->ring_fd, IORING_UNREGISTER_EVENTFD, NULL, 0);
    release_ring(ring);
    ctx->impl = NULL;
}

static void
uring_abandon(struct context *ctx)
{
    /* The mappings and the fd are this process's copies: dropping them leaves
     * the parent's ring alone.  The pool's threads stayed in the parent. */
    pool_abandon(ctx->pool);
    ctx->pool = NULL;
    release_ring(ctx->impl);
    ctx->impl = NULL;
}

const struct backend uring_backend = {
    .name = "linux_uring",
    .open = uring_open,
    .close = uring_close,
    .abandon = uring_abandon,
    .start = uring_start,
    .flush = uring_flush,
    .reap = uring_reap,
    .cancel = uring_cancel,
    .completes_fs_at_submit = true,
};
