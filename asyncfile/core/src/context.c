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
 *
 * This file owns the three types (UringContext, LinuxAioContext,
 * ThreadContext): creation, close(), properties, GC, method tables and specs.
 * The methods and the machinery live in the files context.h lists; this file
 * relies on them all and none relies on it but _aio.c and adapter.c.
 */
#include "context.h"
#include "compat.h"
#include "wakeup.h"

#include <stddef.h>
#include <structmember.h>

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
    ctx->known_fd = -1;
    ctx->closed = true;
    ctx->overflow = PyList_New(0);
    if (ctx->overflow == NULL || context_open(ctx) < 0) {
        Py_DECREF(ctx);
        return NULL;
    }
    return (PyObject *)ctx;
}

/* The constructors' parsers, in Argument Clinic's shape for tp_new: the
 * positional tuple and the keyword dict unpacked into one array. */
static int
check_sizes(int max_requests, int pool_size)
{
    if (max_requests <= 0 || pool_size <= 0) {
        PyErr_Format(PyExc_ValueError,
                     "max_requests and pool_size must be positive, got %d, %d",
                     max_requests, pool_size);
        return -1;
    }
    return 0;
}

#ifndef ASYNCFILE_PORTABLE
static PyObject *
uring_context_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    static const char *const keywords[] = {"max_requests", "sqpoll", "pool_size"};
    PyObject *return_value = NULL;
    PyObject *argsbuf[3];
    int max_requests = 32, sqpoll = 0, pool_size = 64;

    if (unpack_keywords("Context", &PyTuple_GET_ITEM(args, 0), PyTuple_GET_SIZE(args), kwargs,
                        keywords, 0, 3, argsbuf) < 0 ||
        (argsbuf[0] != NULL && !int_converter(argsbuf[0], &max_requests)) ||
        (argsbuf[1] != NULL && !bool_converter(argsbuf[1], &sqpoll)) ||
        (argsbuf[2] != NULL && !int_converter(argsbuf[2], &pool_size)) ||
        check_sizes(max_requests, pool_size) < 0) {
        goto exit;
    }
    return_value = context_create(type, &uring_backend, (unsigned)max_requests,
                                  (unsigned)pool_size, sqpoll);

exit:
    return return_value;
}
#endif

static PyObject *
pooled_context_new(PyTypeObject *type, PyObject *args, PyObject *kwargs,
                   const struct backend *backend)
{
    static const char *const keywords[] = {"max_requests", "pool_size"};
    PyObject *return_value = NULL;
    PyObject *argsbuf[2];
    int max_requests = 32, pool_size = 64;

    if (unpack_keywords("Context", &PyTuple_GET_ITEM(args, 0), PyTuple_GET_SIZE(args), kwargs,
                        keywords, 0, 2, argsbuf) < 0 ||
        (argsbuf[0] != NULL && !int_converter(argsbuf[0], &max_requests)) ||
        (argsbuf[1] != NULL && !int_converter(argsbuf[1], &pool_size)) ||
        check_sizes(max_requests, pool_size) < 0) {
        goto exit;
    }
    return_value = context_create(type, backend, (unsigned)max_requests,
                                  (unsigned)pool_size, false);

exit:
    return return_value;
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
     METH_FASTCALL | METH_KEYWORDS, context_process_events__doc__},
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
"for a kernel thread polling the submission queue (off by default: it keeps\n"
"a CPU busy and does not make reads faster).  Buffered reads too big to copy\n"
"on the loop thread go to a thread pool of up to pool_size threads.");

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
    if (forks_module_init(module) < 0 || loopbinding_module_init(module) < 0) {
        return -1;
    }
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

