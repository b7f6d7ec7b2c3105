/*
 * Shared declarations of the native core.
 *
 * A request is one read, write or sync in flight.  Every context owns a fixed
 * table of them (no allocation per operation); a request belongs to exactly one
 * list at a time: the free list, a backend's queue, or the completed list.
 *
 * Two kinds of owner wait for a request: an Operation (caio's raw API, which
 * reports through a callback) and a Waiter (waiter.c: the future of the fast
 * awaitable path).
 *
 * Everything here is compiled with -fvisibility=hidden: only PyInit__aio is
 * exported from the shared object.
 */
#ifndef ASYNCFILE_CORE_H
#define ASYNCFILE_CORE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* The portable build is the thread pool alone, woken through a pipe, asking
 * mincore() whether a read may complete inline: what macOS gets, and what
 * ASYNCFILE_PORTABLE=1 builds on Linux so that the same code runs in the test
 * suite here.  Only the Linux build has io_uring, Linux AIO, eventfd and
 * preadv2(RWF_NOWAIT). */
#if !defined(__linux__) && !defined(ASYNCFILE_PORTABLE)
#define ASYNCFILE_PORTABLE 1
#endif

#ifndef ASYNCFILE_PORTABLE
#include <linux/aio_abi.h>
#endif
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/uio.h>
#include <time.h>

/* One system call moves at most this much; larger requests loop (the kernel
 * caps a single read or write just below 2 GiB anyway). */
#define CHUNK_MAX ((size_t)1 << 30)

/* The offset of a read or write at the descriptor's current position (pipes,
 * FIFOs, sockets, terminals): what io_uring takes as "no offset" (-1 as a
 * u64), what preadv2/pwritev2 take as -1, and what Python passes as -1 or
 * 2**64-1.  Such a read is one read(2): it returns what is there (short on a
 * pipe), never waiting for the rest. */
#define OFFSET_CURRENT UINT64_MAX

/* Page-cache hits at most this large complete on the loop thread: a larger copy
 * would hold the loop too long, so it goes to the kernel or the pool. */
#define INLINE_MAX ((size_t)256 << 10)

/* A backend waiting on its kernel queue while the pool has work wakes this
 * often to look at the pool's completions, which do not end that wait. */
#define POOL_POLL_NS ((int64_t)10 * 1000 * 1000)

/* How long inline completions may run before the awaiting tasks must give the
 * event loop a turn (nanoseconds). */
#define INLINE_BUDGET_NS (1000 * 1000)
/* Inline completions look at the clock after this much work (bytes), each
 * call counting INLINE_CALL_WORK besides its bytes: see inline_budget_spent. */
#define INLINE_CLOCK_WORK ((size_t)64 << 10)
#define INLINE_CALL_WORK ((size_t)4 << 10)
/* A loop turn that starts many operations submits them in batches of this
 * many, so that the first ones reach the device before the turn ends. */
#define SUBMIT_BATCH_MAX 8

enum opcode {
    OP_READ,      /* result: a new bytes object */
    OP_READINTO,  /* result: the count, into the caller's buffer */
    OP_WRITE,     /* result: the count */
    OP_FSYNC,     /* result: None */
    OP_FDSYNC,    /* result: None */
    /* Filesystem calls (fsops.c): `fd` is the directory descriptor of a path
     * call (AT_FDCWD for none), else the descriptor; `offset` a length. */
    OP_OPENAT,    /* result: the new descriptor, always O_CLOEXEC */
    OP_CLOSE,     /* result: None */
    OP_STATX,     /* result: an os.stat_result; no path: fstat(fd) */
    OP_RENAMEAT,  /* result: None */
    OP_UNLINKAT,  /* result: None; flags AT_REMOVEDIR for rmdir */
    OP_MKDIRAT,   /* result: None */
    OP_SYMLINKAT, /* result: None; path is the target, path2 the link */
    OP_LINKAT,    /* result: None */
    OP_FTRUNCATE, /* result: None */
    OP_TRUNCATE,  /* result: None; by path, no directory descriptor */
    OP_FALLOCATE, /* result: None; posix_fallocate(fd, offset, length): offset
                     in `offset`, the length split over fd2 (high 32 bits) and
                     mode (low), since fs_args carries no second 64-bit value */
    OP_READLINK,  /* result: bytes, the target (read into `bounce`) */
    OP_ACCESS,    /* result: None, or the errno faccessat(2) gave (mode, flags) */
    OP_CHMOD,     /* result: None; no path: fchmod(fd) */
    OP_UTIME,     /* result: None; path2: NULL (now) or bytes holding the two
                     struct timespec of utimensat(2); no path: futimens(fd) */
    OP_STATVFS,   /* result: an os.statvfs_result; no path: fstatvfs(fd) */
    OP_SENDFILE,  /* result: the count; fd: out, fd2: in, offset (flags 1: none,
                     the in descriptor's position), count in mode; Linux only */
    OP_GETDENTS,  /* result: the next names of directory fd (a list of bytes, or
                     of str with flags 1), None at its end; Linux only */
    OP_OPENFILE,  /* result: (fd, st_mode, st_blksize, st_size): openat, then
                     a stat of the new descriptor, what a file object asks;
                     never on the ring, which cannot stat a descriptor it
                     opens in the same step */
    OP_COUNT,
};

static inline bool
is_fs_opcode(enum opcode opcode)
{
    return opcode >= OP_OPENAT;
}

/* statx(2) where the build has it (Linux); else fstatat(2) (macOS, and the
 * portable build, which tests that path on Linux). */
#ifndef ASYNCFILE_PORTABLE
#define ASYNCFILE_HAVE_STATX 1
#endif

/* A filesystem call's arguments beyond the descriptor and the length
 * (borrowed references). */
struct fs_args {
    PyObject *path;  /* bytes (os.fsencode'd), or NULL */
    PyObject *path2; /* bytes, or NULL */
    int fd2;         /* the second directory descriptor (rename, link) */
    int flags;       /* open flags, or AT_* flags */
    unsigned mode;
};

enum request_state {
    REQ_FREE,
    REQ_QUEUED,    /* waiting in a backend's queue */
    REQ_RUNNING,   /* with the kernel or a worker */
    REQ_COMPLETED, /* on the completed list, result final */
};

struct context;

struct request {
    struct request *next;  /* the list this request is on */
    struct context *ctx;
    enum opcode opcode;
    enum request_state state;
    int fd;
    bool via_pool;         /* linux_aio handed it to the pool after EAGAIN */
    bool cancelled;
    bool direct;           /* the descriptor has O_DIRECT */
    bool buffered_unsure;  /* !direct was remembered from earlier in the loop
                              turn: confirm before the kernel queues it */
    bool missed_cache;     /* RWF_NOWAIT found it uncached (inline path) */
    uint64_t offset;       /* of the whole request */
    size_t nbytes;         /* of the whole request */
    size_t done;           /* transferred so far */
    int64_t result;        /* of the last system call: count or -errno */
    char *data;            /* the memory read into or written from */
    PyObject *bytes;       /* OP_READ: the bytes object being filled */
    void *bounce;          /* O_DIRECT OP_READ: aligned memory read into, then
                              copied into `bytes` on completion (owned unless
                              it is `kept`) */
    void *kept;            /* aligned memory the slot keeps for the next small
                              O_DIRECT read (owned; survives release) */
    size_t kept_size;
    Py_buffer view;        /* OP_WRITE, OP_READINTO: held until completion */
    bool has_view;
    PyObject *owner;       /* the Operation or future waiting (strong) */
    bool owner_is_future;
    /* Filesystem calls: the paths (strong, immutable bytes whose storage the
     * kernel or a worker reads without the GIL) and the rest of fs_args. */
    PyObject *path;
    PyObject *path2;
    int fd2;
    int flags;
    unsigned mode;
#ifdef ASYNCFILE_HAVE_STATX
    struct statx stx;      /* OP_STATX's and OP_OPENFILE's answer */
#else
    struct stat st;
#endif
    struct statvfs vfs;    /* OP_STATVFS's answer */
#ifndef ASYNCFILE_PORTABLE
    struct iocb iocb;      /* linux_aio's control block */
#endif
};

/* Singly linked FIFO of requests. */
struct request_list {
    struct request *head;
    struct request **tail;
};

static inline void
request_list_init(struct request_list *list)
{
    list->head = NULL;
    list->tail = &list->head;
}

static inline void
request_list_push(struct request_list *list, struct request *req)
{
    req->next = NULL;
    *list->tail = req;
    list->tail = &req->next;
}

static inline struct request *
request_list_pop(struct request_list *list)
{
    struct request *req = list->head;
    if (req != NULL) {
        list->head = req->next;
        if (list->head == NULL) {
            list->tail = &list->head;
        }
        req->next = NULL;
    }
    return req;
}

static inline bool
request_list_remove(struct request_list *list, struct request *target)
{
    for (struct request **link = &list->head; *link != NULL; link = &(*link)->next) {
        if (*link == target) {
            *link = target->next;
            if (*link == NULL) {
                list->tail = link;
            }
            target->next = NULL;
            return true;
        }
    }
    return false;
}

/* The pure-C thread pool (pool.c): workers never take the GIL. */
struct pool;

/* `wake_fd`: written (wakeup_signal) when the done list gains requests. */
struct pool *pool_create(int wake_fd, unsigned max_threads);
/* Queue a request; a worker runs it and moves it to the pool's done list. */
int pool_enqueue(struct pool *pool, struct request *req);
/* Take a request off the queue if no worker started it. */
bool pool_dequeue(struct pool *pool, struct request *req);
/* Move every finished request onto `out`; returns how many. */
int pool_take_done(struct pool *pool, struct request_list *out);
/* Stop the workers (waiting for the running requests) and free the pool; the
 * requests no worker started go to `unstarted`, the finished ones to `finished`.
 * Call without the GIL. */
void pool_destroy(struct pool *pool, struct request_list *unstarted,
                  struct request_list *finished);
/* After fork in the child: the workers do not exist and the locks may be held. */
void pool_abandon(struct pool *pool);
unsigned pool_threads(struct pool *pool);

/* Run one request from req->done to the end with positional system calls (the
 * inline path); sets req->result to the total count or -errno and returns 0.
 * With RWF_NOWAIT, returns -EAGAIN or -EOPNOTSUPP when the kernel would block,
 * req->done saying how far it got. */
int request_perform(struct request *req, int rw_flags);
/* The same, blocking, on a pool worker: a large buffered read goes in steps, so
 * that the worker never holds a CPU the loop wants for long.  A transfer at
 * the current position first waits in poll() until the descriptor is ready,
 * giving up with ECANCELED once `*stopping` (read atomically) is true, so that
 * closing a pool never waits for a pipe nobody writes. */
void request_perform_in_worker(struct request *req, const bool *stopping);

/* Backends. */
struct backend {
    const char *name;
    /* Allocate kernel resources; 0 or -errno (a Python error may be set). */
    int (*open)(struct context *ctx);
    /* Free them; pending requests move to ctx->completed with -ECANCELED. */
    void (*close)(struct context *ctx);
    /* After fork, in the child: forget the parent's resources without touching
     * anything shared with it. */
    void (*abandon)(struct context *ctx);
    /* Start a request; 0, or -errno when it could not even be queued. */
    int (*start)(struct context *ctx, struct request *req);
    /* Hand queued requests to the kernel; returns how many, or -errno. */
    int (*flush)(struct context *ctx);
    /* Move finished requests to ctx->completed; wait for at least min_wait
     * (timeout_ns < 0: forever).  Called with the GIL held; releases it to wait. */
    int (*reap)(struct context *ctx, int min_wait, int64_t timeout_ns);
    /* Try to cancel; true if the request will complete with -ECANCELED. */
    bool (*cancel)(struct context *ctx, struct request *req);
    /* caio runs this backend's callbacks without being pumped: with no loop
     * bound, completion.c's dispatcher thread runs them (thread_aio). */
    bool runs_callbacks_unpumped;
    /* A filesystem call may be done when start() returns (io_uring answers
     * what it can from the caches inside io_uring_enter): submission.c reaps
     * at once to finish it inline. */
    bool completes_fs_at_submit;
};

#ifndef ASYNCFILE_PORTABLE
extern const struct backend uring_backend;
extern const struct backend kaio_backend;
/* The names of the filesystem calls a uring context's ring runs (a frozenset;
 * the rest run on its pool). */
PyObject *uring_fs_calls(struct context *ctx);
#endif
extern const struct backend thread_backend;

/* The Python methods AsyncioMethods (adapter.c) defers calls to. */
enum deferred_method { DEFERRED_READ, DEFERRED_READINTO, DEFERRED_WRITE, DEFERRED_COUNT };

/* Module state. */
typedef struct {
    PyTypeObject *operation_type;
    PyTypeObject *uring_context_type;
    PyTypeObject *kaio_context_type;
    PyTypeObject *thread_context_type;
    PyTypeObject *call_type;
    PyObject *spare_call;         /* a finished Call's memory, for the next one
                                     (it keeps a reference to call_type) */
    PyTypeObject *waiter_type;
    PyTypeObject *methods_type;   /* AsyncioMethods */
    PyObject *error_from_errno;   /* asyncfile.core.errors.error_from_errno */
    PyObject *buffer_type_error;  /* asyncfile.core.errors.BufferTypeError */
    PyObject *queue_full_error;   /* asyncfile.core.errors.QueueFullError */
    PyObject *get_running_loop;   /* asyncio._get_running_loop */
    PyObject *current_task;       /* asyncio.current_task */
    PyObject *cancelled_error;    /* asyncio.CancelledError */
    PyObject *invalid_state_error; /* asyncio.InvalidStateError */
    PyObject *kwnames_context;    /* ("context",) */
    PyObject *str_call_soon;
    PyObject *str_deferred[DEFERRED_COUNT]; /* "_read", "_readinto", "_write" */
    PyObject *stat_result_type;   /* os.stat_result */
    PyObject *statvfs_result_type; /* os.statvfs_result */
} aio_state;

/* arguments.c: parsing in the shape Argument Clinic generates.  The
 * converters take (argument, C destination) and return 1, or 0 with an error
 * set; they also serve the fast paths. */
int fd_converter(PyObject *arg, void *out);     /* int, a descriptor */
int offset_converter(PyObject *arg, void *out); /* uint64_t; -1: OFFSET_CURRENT */
int size_converter(PyObject *arg, void *out);   /* size_t or uint64_t, [0, 2**63) */
int int_converter(PyObject *arg, void *out);    /* int, as getargs' "i" */
int unsigned_int_mask_converter(PyObject *arg, void *out); /* as "I" */
int double_converter(PyObject *arg, void *out); /* as "d" */
int bool_converter(PyObject *arg, void *out);   /* int 0 or 1, as "p" */
/* "name() argument 2 must be bytes, not str"; returns 0, for a converter. */
int bad_argument(const char *name, Py_ssize_t position, const char *expected,
                 PyObject *arg);
/* nargs within [min, max], else getargs' TypeError; 0 or -1. */
int check_positional(const char *name, Py_ssize_t nargs, Py_ssize_t min, Py_ssize_t max);
/* Fill out[0..count) from positional `args` and the keywords (a dict, or a
 * vectorcall's tuple of names whose values follow args; NULL for none): each
 * parameter's argument, or NULL where not given.  The first `required` must
 * be given; too many arguments, an unknown keyword or one given twice raise
 * getargs' TypeError.  0, or -1 with the error set. */
int unpack_keywords(const char *name, PyObject *const *args, Py_ssize_t nargs,
                    PyObject *kwargs, const char *const *keywords, Py_ssize_t required,
                    Py_ssize_t count, PyObject **out);

struct context {
    PyObject_HEAD
    const struct backend *backend;
    aio_state *state;
    unsigned max_requests;
    unsigned in_flight;          /* requests not on the free list */
    struct request *requests;    /* the table */
    struct request *free;        /* free list */
    struct request_list completed;
    struct request_list waiting; /* accepted beyond the table (awaitable path) */
    int eventfd;                 /* read end of the wake-up (fileno): an eventfd,
                                    or a pipe in the portable build */
    int wake_fd;                 /* its write end (the eventfd itself) */
    bool closed;
    bool sqpoll_requested;
    bool sqpoll_active;
    bool dispatcher_running;     /* thread_aio without a loop (dispatcher_main) */
    unsigned fork_generation;
    uint64_t submit_calls;       /* io_uring_enter/io_submit calls that submitted */
    void *impl;                  /* the backend's own state */
    struct pool *pool;           /* thread and linux_aio backends */
    unsigned pool_size;
    /* asyncio binding */
    PyObject *loop;
    PyObject *call_soon;         /* loop.call_soon */
    PyObject *end_turn;          /* self._end_turn, run at the loop's next turn */
    PyObject *overflow;          /* awaitable operations waiting for a slot */
    int64_t streak_started_ns;   /* 0: no inline completion in this loop turn */
    size_t unclocked_work;       /* inline work since the clock was last read */
    bool budget_spent;           /* inline completions must yield this turn */
    bool flush_scheduled;        /* async requests are batched this turn */
    unsigned batched;            /* requests batched since the last flush */
    bool turn_scheduled;         /* end_turn is scheduled */
    bool run_callbacks_now;      /* dispatching from a loop callback, no task
                                    running: waiters may wake their tasks here */
    int known_fd;                /* asked for O_DIRECT in this turn, else -1 */
    bool known_fd_direct;        /* known_fd's answer */
    PyObject *weakreflist;
};

#define CONTEXT(op) ((struct context *)(op))

/* context.c and the files context.h lists */
int context_module_init(PyObject *module, aio_state *state);
void context_complete(struct context *ctx, struct request *req, int64_t result);
int context_dispatch(struct context *ctx, int max);
/* Complete the requests the pool has finished; returns how many. */
int context_take_pool_done(struct context *ctx);
/* Cancel a request still queued in the pool; false once a worker runs it. */
bool context_cancel_in_pool(struct context *ctx, struct request *req);
/* Stop the pool, waiting without the GIL for the requests it runs: those
 * finished complete with their result, those never started with ECANCELED. */
void context_close_pool(struct context *ctx);

/* CLOCK_MONOTONIC in nanoseconds: the inline budget's and the backends' waits. */
static inline int64_t
monotonic_ns(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
}

extern unsigned aio_fork_generation;
/* Whether `obj` is a UringContext, LinuxAioContext or ThreadContext. */
bool is_native_context(PyObject *obj);
/* 1 if `ctx` is open, made after the last fork and bound to the loop running
 * in this thread; 0 if not; -1 on error.  The one "serves this loop" answer. */
int context_serves_running_loop(struct context *ctx);
/* The awaitable methods aread, areadinto and awrite of a native context. */
PyObject *context_aread(PyObject *self, PyObject *const *args, Py_ssize_t nargs);
PyObject *context_areadinto(PyObject *self, PyObject *const *args, Py_ssize_t nargs);
PyObject *context_awrite(PyObject *self, PyObject *const *args, Py_ssize_t nargs);

/* adapter.c */
int adapter_module_init(PyObject *module, aio_state *state);

/* operation.c */
int operation_module_init(PyObject *module, aio_state *state);
/* Take a slot and fill it from the operation; NULL with an error set. */
struct request *operation_claim(PyObject *op, struct context *ctx);
/* Undo operation_claim for a request that could not start. */
void operation_unclaim(PyObject *op);
bool operation_is_new(PyObject *op);
/* The operation's request while it is in flight, else NULL. */
struct request *operation_request(PyObject *op);
/* Record the outcome; returns the callback (new reference) or NULL. */
PyObject *operation_finish(PyObject *op, struct request *req);
int64_t operation_result(PyObject *op);
/* Raise BufferTypeError for an argument that is not a suitable buffer. */
PyObject *raise_buffer_type_error(aio_state *state, PyObject *obj, bool writable);

/* request.c */
struct request *request_acquire(struct context *ctx);
void request_release(struct context *ctx, struct request *req);
/* Free a context's table of `count` requests, none of them in flight. */
void request_table_free(struct request *table, unsigned count);
PyObject *request_value(aio_state *state, struct request *req);
PyObject *request_error(aio_state *state, struct request *req);
/* Whether the descriptor has O_DIRECT (one fcntl). */
bool fd_is_direct(int fd);
/* Check a read or write that the caller found (req->direct) to be on an O_DIRECT
 * descriptor: the offset, length and buffer must be aligned (ValueError
 * otherwise), and a read into a new bytes object goes through aligned memory.
 * 0, or -1 with an exception set. */
int request_prepare_direct(struct request *req);
/* On completion: copy what an O_DIRECT read brought into its bytes object. */
void request_settle(struct request *req);
void request_drop_references(struct request *req);

/* fsops.c: the filesystem calls' blocking system call (a pool worker's, or
 * the thread backend's): the result or -errno. */
int64_t fs_perform(struct request *req);
/* OP_FALLOCATE's length, from where fs_afallocate put it. */
uint64_t fs_fallocate_length(const struct request *req);
/* The value of a finished filesystem call (new reference). */
PyObject *fs_value(aio_state *state, struct request *req);
/* Fill `req` from `args`; 0, or -1 with an error set. */
int fs_fill(struct request *req, enum opcode opcode, int fd, uint64_t length,
            const struct fs_args *args);
/* Complete a filesystem call on the loop if the kernel answers it from its
 * caches without waiting (a stat, on Linux); true when it did. */
bool fs_complete_inline(struct request *req);
/* A finished call nobody waits for any more releases what it made: an
 * opened descriptor is closed. */
void fs_discard(struct request *req);

/* The most sendfile(2) moves in one call on Linux (MAX_RW_COUNT): a larger
 * count asks for nothing more, so it fits the request's 32-bit `mode`. */
#define SENDFILE_MAX 0x7ffff000u

/* The context methods that start filesystem calls (FS_METHODS), and the
 * constants the Python layer passes them (fs_module_init). */
int fs_module_init(PyObject *module, aio_state *state);
#define FS_METHOD_DECLARE(name)                                                      \
    PyObject *fs_##name(PyObject *self, PyObject *const *args, Py_ssize_t nargs);    \
    extern const char fs_##name##__doc__[]
FS_METHOD_DECLARE(aopenat);
FS_METHOD_DECLARE(aopen_file);
PyObject *fs_aclose(PyObject *self, PyObject *fd);
extern const char fs_aclose__doc__[];
FS_METHOD_DECLARE(astat);
FS_METHOD_DECLARE(arenameat);
FS_METHOD_DECLARE(alinkat);
FS_METHOD_DECLARE(asymlinkat);
FS_METHOD_DECLARE(aunlinkat);
FS_METHOD_DECLARE(amkdirat);
FS_METHOD_DECLARE(aftruncate);
FS_METHOD_DECLARE(atruncate);
FS_METHOD_DECLARE(afallocate);
FS_METHOD_DECLARE(areadlinkat);
FS_METHOD_DECLARE(afaccessat);
FS_METHOD_DECLARE(afchmodat);
FS_METHOD_DECLARE(autimensat);
FS_METHOD_DECLARE(astatvfs);
FS_METHOD_DECLARE(agetdents);
FS_METHOD_DECLARE(asendfile);
#define FS_METHOD(name, flags)                                                       \
    {#name, (PyCFunction)(void (*)(void))fs_##name, flags, fs_##name##__doc__}
#define FS_METHODS                                                                   \
    FS_METHOD(aopenat, METH_FASTCALL), FS_METHOD(aopen_file, METH_FASTCALL),         \
        FS_METHOD(aclose, METH_O), FS_METHOD(astat, METH_FASTCALL), FS_METHOD(arenameat, METH_FASTCALL),        \
        FS_METHOD(alinkat, METH_FASTCALL), FS_METHOD(asymlinkat, METH_FASTCALL),     \
        FS_METHOD(aunlinkat, METH_FASTCALL), FS_METHOD(amkdirat, METH_FASTCALL),     \
        FS_METHOD(aftruncate, METH_FASTCALL), FS_METHOD(atruncate, METH_FASTCALL),   \
        FS_METHOD(afallocate, METH_FASTCALL), FS_METHOD(areadlinkat, METH_FASTCALL), \
        FS_METHOD(afaccessat, METH_FASTCALL), FS_METHOD(afchmodat, METH_FASTCALL),   \
        FS_METHOD(autimensat, METH_FASTCALL), FS_METHOD(astatvfs, METH_FASTCALL),    \
        FS_METHOD(agetdents, METH_FASTCALL), FS_METHOD(asendfile, METH_FASTCALL)

/* How an awaitable operation went when it started: either pending on
 * `future` (a Waiter), or done inline with `value` or `error`. */
struct call_outcome {
    PyObject *future;
    PyObject *value;
    PyObject *error;
    bool must_yield; /* done inline, but the loop is owed a turn first */
};

/* submission.c: start an awaitable operation; 0, or -1 with an error set. */
int context_start(struct context *ctx, enum opcode opcode, int fd, uint64_t offset,
                  size_t nbytes, PyObject *buffer, const struct fs_args *fs,
                  struct call_outcome *out);

/* call.c */
int call_module_init(PyObject *module, aio_state *state);
/* Free the finished call kept for reuse, if any. */
void call_drop_spare(aio_state *state);
/* The coroutine that starts the operation when first awaited. */
PyObject *call_new(struct context *ctx, enum opcode opcode, int fd, uint64_t offset,
                   size_t nbytes, PyObject *buffer);
/* The same for a filesystem call. */
PyObject *call_new_fs(struct context *ctx, enum opcode opcode, int fd, uint64_t length,
                      const struct fs_args *args);

/* waiter.c: the future a pending awaitable operation waits on. */
int waiter_module_init(PyObject *module, aio_state *state);
PyObject *waiter_new(aio_state *state, PyObject *loop);
bool waiter_is_pending(PyObject *waiter);
/* Its task is about to suspend on it (_asyncio_future_blocking). */
void waiter_mark_blocking(PyObject *waiter);
/* Make its cancel() method decline: the operation must be waited out. */
void waiter_refuse_cancel(PyObject *waiter);
/* Settle a pending waiter with `value` or `error` (both stolen; dropped if it
 * was cancelled) and run its done callbacks now (`run_now`: only from a loop
 * callback with no task running) or schedule them with loop.call_soon. */
void waiter_settle(PyObject *waiter, PyObject *value, PyObject *error, bool run_now);
/* The value of a settled waiter (new reference), or NULL with its error, or
 * CancelledError, set. */
PyObject *waiter_outcome(PyObject *waiter);
/* Cancel a pending waiter (message may be NULL); false if it was not pending. */
bool waiter_cancel(PyObject *waiter, PyObject *message);

/* Raise the errno as asyncfile.core's OSError subclass, naming the fd. */
PyObject *raise_errno(aio_state *state, int code, int fd);

#endif /* ASYNCFILE_CORE_H */
