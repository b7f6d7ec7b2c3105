/*
 * Call: the coroutine the awaitable API returns (aread, awrite, ...).
 *
 * It behaves as an `async def` would: nothing happens until it is awaited or
 * wrapped in a task, asyncio.create_task() accepts it, and one that is never
 * awaited warns.  Its first step starts the operation: a page-cache hit
 * completes there and then, without suspending the task (unless the loop's
 * inline budget is spent: then it yields once, as asyncio.sleep(0) does);
 * anything else suspends on a future that the context resolves.
 *
 * despite_cancel() makes it complete whatever happens to its task: a
 * cancellation that arrives meanwhile is held back (deferred_cancel) for the
 * caller to deliver once the outcome is known, which is what a write that may
 * already be in the kernel needs, without a task and a shield around it.
 */
#include "core.h"

#include <string.h>
#include <unistd.h>

#include "compat.h"

enum call_state {
    CALL_NEW,       /* not started */
    CALL_YIELDED,   /* done inline, gave the loop a turn before returning */
    CALL_WAITING,   /* suspended on `future` */
    CALL_FINISHED,  /* returned, raised or closed */
};

typedef struct {
    PyObject_HEAD
    PyObject *context;
    PyObject *buffer; /* readinto's and write's buffer, else NULL */
    PyObject *path;   /* a filesystem call's paths (bytes), else NULL */
    PyObject *path2;
    int fd2;
    int flags;
    unsigned mode;
    enum opcode opcode;
    int fd;
    uint64_t offset;
    size_t nbytes;
    enum call_state state;
    struct call_outcome outcome;
    bool despite_cancel;
    PyObject *deferred_cancel; /* the CancelledError held back, or NULL */
} CallObject;

/* Every opcode's method name: a call's __qualname__, repr and warnings. */
static const char *const call_names[OP_COUNT] = {
    [OP_READ] = "aread",     [OP_READINTO] = "areadinto", [OP_WRITE] = "awrite",
    [OP_FSYNC] = "afsync",   [OP_FDSYNC] = "afdsync",
    [OP_OPENAT] = "aopenat", [OP_CLOSE] = "aclose",       [OP_STATX] = "astat",
    [OP_RENAMEAT] = "arenameat", [OP_UNLINKAT] = "aunlinkat",
    [OP_MKDIRAT] = "amkdirat", [OP_SYMLINKAT] = "asymlinkat", [OP_LINKAT] = "alinkat",
    [OP_FTRUNCATE] = "aftruncate", [OP_TRUNCATE] = "atruncate",
    [OP_FALLOCATE] = "afallocate", [OP_READLINK] = "areadlinkat",
    [OP_ACCESS] = "afaccessat", [OP_CHMOD] = "afchmodat", [OP_UTIME] = "autimensat",
    [OP_STATVFS] = "astatvfs", [OP_SENDFILE] = "asendfile", [OP_GETDENTS] = "agetdents",
    [OP_OPENFILE] = "aopen_file",
};

/* "UringContext" for asyncfile.core._aio.UringContext. */
static const char *
context_type_name(CallObject *self)
{
    const char *name = Py_TYPE(self->context)->tp_name;
    const char *dot = strrchr(name, '.');
    return dot != NULL ? dot + 1 : name;
}

/* A new call, in the last finished call's memory if it was kept: an awaited
 * page-cache read makes and drops one call, and allocating it (and the
 * collections its allocations count towards) was a measurable share of the
 * read (benchmarks/README.md, "Timings behind the code"). */
static CallObject *
call_alloc(aio_state *state)
{
    PyTypeObject *type = state->call_type;
    CallObject *self = (CallObject *)state->spare_call;
    if (self == NULL) {
        return (CallObject *)type->tp_alloc(type, 0);
    }
    state->spare_call = NULL;
    memset((char *)self + sizeof(PyObject), 0, sizeof(*self) - sizeof(PyObject));
    (void)PyObject_Init((PyObject *)self, type);
    Py_DECREF(type); /* PyObject_Init took the reference the spare held */
    PyObject_GC_Track(self);
    return self;
}

void
call_drop_spare(aio_state *state)
{
    PyObject *spare = state->spare_call;
    if (spare != NULL) {
        state->spare_call = NULL;
        PyTypeObject *type = Py_TYPE(spare);
        type->tp_free(spare);
        Py_DECREF(type);
    }
}

PyObject *
call_new(struct context *ctx, enum opcode opcode, int fd, uint64_t offset,
         size_t nbytes, PyObject *buffer)
{
    CallObject *self = call_alloc(ctx->state);
    if (self == NULL) {
        return NULL;
    }
    self->context = Py_NewRef((PyObject *)ctx);
    self->buffer = Py_XNewRef(buffer);
    self->opcode = opcode;
    self->fd = fd;
    self->offset = offset;
    self->nbytes = nbytes;
    self->state = CALL_NEW;
    return (PyObject *)self;
}

PyObject *
call_new_fs(struct context *ctx, enum opcode opcode, int fd, uint64_t length,
            const struct fs_args *args)
{
    CallObject *self = (CallObject *)call_new(ctx, opcode, fd, length, 0, NULL);
    if (self != NULL) {
        self->path = Py_XNewRef(args->path);
        self->path2 = Py_XNewRef(args->path2);
        self->fd2 = args->fd2;
        self->flags = args->flags;
        self->mode = args->mode;
    }
    return (PyObject *)self;
}

static void
call_clear_outcome(CallObject *self)
{
    PyObject *opened = self->outcome.value;
    if (opened != NULL && self->opcode == OP_OPENFILE) {
        opened = PyTuple_GET_ITEM(opened, 0);
    }
    if (opened != NULL && (self->opcode == OP_OPENAT || self->opcode == OP_OPENFILE)) {
        /* Opened inline but never handed over (the call was abandoned while
         * it gave the loop a turn): nobody else will close it. */
        long fd = PyLong_AsLong(opened);
        if (fd >= 0) {
            close((int)fd);
        }
        PyErr_Clear();
    }
    Py_CLEAR(self->outcome.future);
    Py_CLEAR(self->outcome.value);
    Py_CLEAR(self->outcome.error);
}

/* Finish with the inline outcome: return the value or raise the error. */
static PySendResult
call_return_outcome(CallObject *self, PyObject **result)
{
    self->state = CALL_FINISHED;
    if (self->outcome.error != NULL) {
        PyObject *error = self->outcome.error;
        self->outcome.error = NULL;
        PyErr_SetObject((PyObject *)Py_TYPE(error), error);
        Py_DECREF(error);
        *result = NULL;
        return PYGEN_ERROR;
    }
    *result = self->outcome.value != NULL ? self->outcome.value : Py_NewRef(Py_None);
    self->outcome.value = NULL;
    return PYGEN_RETURN;
}

/* Suspend the task on the waiter, as Future.__await__ does. */
static PySendResult
call_yield_future(CallObject *self, PyObject **result)
{
    waiter_mark_blocking(self->outcome.future);
    *result = Py_NewRef(self->outcome.future);
    return PYGEN_NEXT;
}

static PySendResult
call_start(CallObject *self, PyObject **result)
{
    struct context *ctx = CONTEXT(self->context);
    struct fs_args fs = {self->path, self->path2, self->fd2, self->flags, self->mode};
    if (context_start(ctx, self->opcode, self->fd, self->offset, self->nbytes,
                      self->buffer, is_fs_opcode(self->opcode) ? &fs : NULL,
                      &self->outcome) < 0) {
        self->state = CALL_FINISHED;
        *result = NULL;
        return PYGEN_ERROR;
    }
    Py_CLEAR(self->buffer);
    Py_CLEAR(self->path);
    Py_CLEAR(self->path2);
    if (self->outcome.future != NULL) {
        self->state = CALL_WAITING;
        if (self->despite_cancel) {
            waiter_refuse_cancel(self->outcome.future);
        }
        return call_yield_future(self, result);
    }
    if (self->outcome.must_yield) {
        self->state = CALL_YIELDED;
        *result = Py_NewRef(Py_None);
        return PYGEN_NEXT;
    }
    return call_return_outcome(self, result);
}

/* The task woke up: the waiter is settled (or someone stepped us too early). */
static PySendResult
call_resume(CallObject *self, PyObject **result)
{
    self->state = CALL_FINISHED;
    if (waiter_is_pending(self->outcome.future)) {
        PyErr_SetString(PyExc_RuntimeError, "await wasn't used with future");
        *result = NULL;
        return PYGEN_ERROR;
    }
    *result = waiter_outcome(self->outcome.future);
    Py_CLEAR(self->outcome.future);
    return *result == NULL ? PYGEN_ERROR : PYGEN_RETURN;
}

static PySendResult
call_send(PyObject *op, PyObject *Py_UNUSED(arg), PyObject **result)
{
    CallObject *self = (CallObject *)op;
    switch (self->state) {
    case CALL_NEW:
        return call_start(self, result);
    case CALL_YIELDED:
        return call_return_outcome(self, result);
    case CALL_WAITING:
        return call_resume(self, result);
    case CALL_FINISHED:
        break;
    }
    PyErr_SetString(PyExc_RuntimeError, "cannot reuse already awaited coroutine");
    *result = NULL;
    return PYGEN_ERROR;
}

/* A step's outcome as an iterator's: the value yielded, or NULL with
 * StopIteration(value) or the error set. */
static PyObject *
call_step_as_iterator(PySendResult status, PyObject *result)
{
    switch (status) {
    case PYGEN_NEXT:
        return result;
    case PYGEN_RETURN:
        if (result == Py_None) {
            PyErr_SetNone(PyExc_StopIteration);
        }
        else {
            /* Through an instance, so that a tuple value is not unpacked. */
            PyObject *stop = PyObject_CallOneArg(PyExc_StopIteration, result);
            if (stop != NULL) {
                PyErr_SetObject(PyExc_StopIteration, stop);
                Py_DECREF(stop);
            }
        }
        Py_DECREF(result);
        return NULL;
    case PYGEN_ERROR:
        return NULL;
    }
    Py_UNREACHABLE();
}

static PyObject *
call_iternext(PyObject *op)
{
    PyObject *result;
    PySendResult status = call_send(op, Py_None, &result);
    return call_step_as_iterator(status, result);
}

static PyObject *
call_send_method(PyObject *op, PyObject *arg)
{
    if (arg != Py_None && ((CallObject *)op)->state == CALL_NEW) {
        PyErr_SetString(PyExc_TypeError,
                        "can't send non-None value to a just-started coroutine");
        return NULL;
    }
    return call_iternext(op);
}

/* Stop waiting: a pending waiter is cancelled (the context then drops the
 * operation's outcome; one still queued for a slot never starts). */
static void
call_abandon(CallObject *self)
{
    if (self->outcome.future != NULL) {
        waiter_cancel(self->outcome.future, NULL);
    }
    call_clear_outcome(self);
    Py_CLEAR(self->buffer);
    Py_CLEAR(self->path);
    Py_CLEAR(self->path2);
    self->state = CALL_FINISHED;
}

/* A cancellation thrown into a call that completes despite it: keep the
 * first one for the caller, then go on waiting, or finish if the operation
 * has. */
static PyObject *
call_defer_cancel(CallObject *self, PyObject *exc, PyObject *value)
{
    if (self->deferred_cancel == NULL) {
        if (PyExceptionInstance_Check(exc)) {
            self->deferred_cancel = Py_NewRef(exc);
        }
        else {
            PyErr_SetObject(exc, value); /* raised and fetched: an instance */
            self->deferred_cancel = fetch_exception();
        }
    }
    if (self->state == CALL_WAITING && waiter_is_pending(self->outcome.future)) {
        waiter_mark_blocking(self->outcome.future);
        return Py_NewRef(self->outcome.future);
    }
    PyObject *result;
    PySendResult status = call_send((PyObject *)self, Py_None, &result);
    return call_step_as_iterator(status, result);
}

static PyObject *
call_throw(PyObject *op, PyObject *const *args, Py_ssize_t nargs)
{
    if (check_positional("throw", nargs, 1, 3) < 0) {
        return NULL;
    }
    CallObject *self = (CallObject *)op;
    PyObject *exc = args[0];
    PyObject *value = nargs > 1 ? args[1] : NULL;
    if (!PyExceptionClass_Check(exc) && !PyExceptionInstance_Check(exc)) {
        PyErr_SetString(PyExc_TypeError,
                        "exceptions must be classes or instances deriving from "
                        "BaseException");
        return NULL;
    }
    if (self->despite_cancel &&
        (self->state == CALL_WAITING || self->state == CALL_YIELDED) &&
        PyErr_GivenExceptionMatches(exc, CONTEXT(self->context)->state->cancelled_error)) {
        return call_defer_cancel(self, exc, value);
    }
    call_abandon(self);
    if (PyExceptionClass_Check(exc)) {
        PyErr_SetObject(exc, value);
    }
    else {
        PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
    }
    return NULL;
}

static PyObject *
call_close(PyObject *op, PyObject *Py_UNUSED(ignored))
{
    call_abandon((CallObject *)op);
    Py_RETURN_NONE;
}

static PyObject *
call_await(PyObject *op)
{
    return Py_NewRef(op);
}

static PyObject *
call_despite_cancel(PyObject *op, PyObject *Py_UNUSED(ignored))
{
    CallObject *self = (CallObject *)op;
    if (self->state != CALL_NEW) {
        PyErr_SetString(PyExc_RuntimeError,
                        "despite_cancel() must come before the call is awaited");
        return NULL;
    }
    self->despite_cancel = true;
    return Py_NewRef(op);
}

static PyObject *
call_get_deferred_cancel(PyObject *op, void *Py_UNUSED(closure))
{
    PyObject *error = ((CallObject *)op)->deferred_cancel;
    return Py_NewRef(error != NULL ? error : Py_None);
}

static PyObject *
call_get_name(PyObject *op, void *Py_UNUSED(closure))
{
    return PyUnicode_FromString(call_names[((CallObject *)op)->opcode]);
}

static PyObject *
call_get_qualname(PyObject *op, void *Py_UNUSED(closure))
{
    CallObject *self = (CallObject *)op;
    return PyUnicode_FromFormat("%s.%s", context_type_name(self),
                                call_names[self->opcode]);
}

static PyObject *
call_get_running(PyObject *op, void *Py_UNUSED(closure))
{
    /* Never "running": all its work is done inside one send(). */
    return Py_NewRef(Py_False);
}

static PyObject *
call_get_await(PyObject *op, void *Py_UNUSED(closure))
{
    CallObject *self = (CallObject *)op;
    PyObject *future = self->state == CALL_WAITING ? self->outcome.future : Py_None;
    return Py_NewRef(future);
}

static PyObject *
call_repr(PyObject *op)
{
    CallObject *self = (CallObject *)op;
    static const char *const states[] = {"new", "yielded", "waiting", "finished"};
    return PyUnicode_FromFormat("<%s.%s fd=%d %s>", context_type_name(self),
                                call_names[self->opcode], self->fd, states[self->state]);
}

static int
call_traverse(PyObject *op, visitproc visit, void *arg)
{
    CallObject *self = (CallObject *)op;
    Py_VISIT(Py_TYPE(op));
    Py_VISIT(self->context);
    Py_VISIT(self->buffer);
    Py_VISIT(self->path);
    Py_VISIT(self->path2);
    Py_VISIT(self->outcome.future);
    Py_VISIT(self->outcome.value);
    Py_VISIT(self->outcome.error);
    Py_VISIT(self->deferred_cancel);
    return 0;
}

static int
call_clear(PyObject *op)
{
    CallObject *self = (CallObject *)op;
    call_clear_outcome(self);
    Py_CLEAR(self->buffer);
    Py_CLEAR(self->path);
    Py_CLEAR(self->path2);
    Py_CLEAR(self->context);
    Py_CLEAR(self->deferred_cancel);
    return 0;
}

static void
call_finalize(PyObject *op)
{
    CallObject *self = (CallObject *)op;
    if (self->state != CALL_NEW || self->context == NULL) {
        return;
    }
    /* As for a coroutine function's result: a call never awaited is a bug. */
    PyObject *exc = fetch_exception();
    if (PyErr_WarnFormat(PyExc_RuntimeWarning, 1, "coroutine '%s.%s' was never awaited",
                         context_type_name(self),
                         call_names[self->opcode]) < 0) {
        PyErr_WriteUnraisable(op);
    }
    restore_exception(exc);
}

static void
call_dealloc(PyObject *op)
{
    /* Only a call never started has anything to finalize. */
    bool never_started = ((CallObject *)op)->state == CALL_NEW;
    if (never_started && PyObject_CallFinalizerFromDealloc(op) < 0) {
        return; /* resurrected */
    }
    PyTypeObject *type = Py_TYPE(op);
    PyObject_GC_UnTrack(op);
    call_clear(op);
    /* Memory whose finalizer ran stays marked so, and a call made there
     * would never warn that it was not awaited. */
    aio_state *state = PyType_GetModuleState(type);
    if (state != NULL && state->spare_call == NULL && state->call_type == type &&
        !PyObject_GC_IsFinalized(op)) {
        state->spare_call = op; /* with its reference to the type */
        return;
    }
    type->tp_free(op);
    Py_DECREF(type);
}

static PyMethodDef call_methods[] = {
    {"send", call_send_method, METH_O,
     "send($self, value, /)\n--\n\nStep the call, as coroutine.send() does."},
    {"throw", (PyCFunction)(void (*)(void))call_throw, METH_FASTCALL,
     "throw($self, typ, val=None, tb=None, /)\n--\n\n"
     "Stop waiting and raise the exception here, as coroutine.throw() does."},
    {"close", call_close, METH_NOARGS,
     "close($self, /)\n--\n\nStop waiting, as coroutine.close() does."},
    {"despite_cancel", call_despite_cancel, METH_NOARGS,
     "despite_cancel($self, /)\n--\n\n"
     "Complete even if the awaiting task is cancelled meanwhile, holding the\n"
     "cancellation back (see deferred_cancel); returns the call itself."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef call_getset[] = {
    {"__name__", call_get_name, NULL, NULL, NULL},
    {"__qualname__", call_get_qualname, NULL, NULL, NULL},
    {"cr_running", call_get_running, NULL, NULL, NULL},
    {"cr_await", call_get_await, NULL, NULL, NULL},
    {"deferred_cancel", call_get_deferred_cancel, NULL,
     "The CancelledError that despite_cancel() held back, or None.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot call_slots[] = {
    {Py_tp_doc, "A pending read, write, sync or filesystem call; await it (or make it\n"
                "a task)."},
    {Py_am_await, call_await},
    {Py_am_send, call_send},
    {Py_tp_iter, PyObject_SelfIter},
    {Py_tp_iternext, call_iternext},
    {Py_tp_methods, call_methods},
    {Py_tp_getset, call_getset},
    {Py_tp_repr, call_repr},
    {Py_tp_traverse, call_traverse},
    {Py_tp_clear, call_clear},
    {Py_tp_finalize, call_finalize},
    {Py_tp_dealloc, call_dealloc},
    {0, NULL},
};

static PyType_Spec call_spec = {
    .name = "asyncfile.core._aio.Call",
    .basicsize = sizeof(CallObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_IMMUTABLETYPE |
             Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = call_slots,
};

int
call_module_init(PyObject *module, aio_state *state)
{
    state->call_type =
        (PyTypeObject *)PyType_FromModuleAndSpec(module, &call_spec, NULL);
    if (state->call_type == NULL) {
        return -1;
    }
    /* asyncio.create_task() and asyncio.iscoroutine() accept registered types. */
    PyObject *abc = PyImport_ImportModule("collections.abc");
    if (abc == NULL) {
        return -1;
    }
    PyObject *coroutine = PyObject_GetAttrString(abc, "Coroutine");
    Py_DECREF(abc);
    if (coroutine == NULL) {
        return -1;
    }
    PyObject *ret = PyObject_CallMethod(coroutine, "register", "O", state->call_type);
    Py_DECREF(coroutine);
    if (ret == NULL) {
        return -1;
    }
    Py_DECREF(ret);
    return 0;
}
