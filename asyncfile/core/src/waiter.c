/*
 * Waiter: the future an awaitable operation suspends its task on.
 *
 * It speaks asyncio's future protocol (what Task, gather and wait use:
 * _asyncio_future_blocking, get_loop, add_done_callback, result, cancel, ...),
 * so a task waits on it as on an asyncio.Future.  What it does differently:
 * when the context settles it from a loop callback of its own (on_ready,
 * _end_turn), it runs the done callbacks there and then, in their contexts,
 * instead of scheduling each with loop.call_soon: for a task that is its
 * wake-up, and scheduling it cost more than the rest of an operation.
 * Settled from anywhere else (a task, close()), it schedules them as a
 * Future does.
 */
#include "core.h"

enum waiter_state {
    WAITER_PENDING,
    WAITER_DONE,      /* `value` or `error` is set */
    WAITER_CANCELLED,
};

typedef struct {
    PyObject_HEAD
    aio_state *state;
    PyObject *loop;
    PyObject *callback;  /* the first done callback (a task's wake-up), or NULL */
    PyObject *context;   /* the contextvars.Context to run it in, or NULL */
    PyObject *more;      /* list of further (callback, context) pairs, or NULL */
    PyObject *value;
    PyObject *error;     /* an exception instance */
    PyObject *cancel_message;
    enum waiter_state state_;
    bool blocking;       /* _asyncio_future_blocking */
    bool refuses_cancel; /* cancel() from outside declines while pending */
} WaiterObject;

#define WAITER(op) ((WaiterObject *)(op))

PyObject *
waiter_new(aio_state *state, PyObject *loop)
{
    PyTypeObject *type = state->waiter_type;
    WaiterObject *self = (WaiterObject *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    self->state = state;
    self->loop = Py_NewRef(loop);
    self->state_ = WAITER_PENDING;
    return (PyObject *)self;
}

bool
waiter_is_pending(PyObject *op)
{
    return WAITER(op)->state_ == WAITER_PENDING;
}

/* loop.call_soon(callback, self, context=context). */
static int
schedule_callback(WaiterObject *self, PyObject *callback, PyObject *context)
{
    PyObject *args[] = {self->loop, callback, (PyObject *)self, context};
    PyObject *kwnames = context != NULL ? self->state->kwnames_context : NULL;
    PyObject *handle = PyObject_VectorcallMethod(self->state->str_call_soon, args, 3,
                                                 kwnames);
    if (handle == NULL) {
        return -1;
    }
    Py_DECREF(handle);
    return 0;
}

/* callback(self) in `context`, now.  Falls back to scheduling it when the
 * context cannot be entered (it is running already). */
static void
run_callback(WaiterObject *self, PyObject *callback, PyObject *context)
{
    if (context != NULL && PyContext_Enter(context) < 0) {
        PyErr_Clear();
        if (schedule_callback(self, callback, context) < 0) {
            PyErr_WriteUnraisable(callback);
        }
        return;
    }
    PyObject *ret = PyObject_CallOneArg(callback, (PyObject *)self);
    if (ret == NULL) {
        PyErr_WriteUnraisable(callback);
    }
    Py_XDECREF(ret);
    if (context != NULL && PyContext_Exit(context) < 0) {
        PyErr_WriteUnraisable(context);
    }
}

/* Run or schedule every done callback, clearing them first (a callback may
 * add another). */
static void
fire_callbacks(WaiterObject *self, bool run_now)
{
    PyObject *callback = self->callback, *context = self->context, *more = self->more;
    self->callback = self->context = self->more = NULL;
    if (callback != NULL) {
        if (run_now) {
            run_callback(self, callback, context);
        }
        else if (schedule_callback(self, callback, context) < 0) {
            PyErr_WriteUnraisable(callback);
        }
    }
    Py_ssize_t count = more != NULL ? PyList_GET_SIZE(more) : 0;
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *pair = PyList_GET_ITEM(more, i);
        PyObject *extra = PyTuple_GET_ITEM(pair, 0);
        PyObject *extra_context = PyTuple_GET_ITEM(pair, 1);
        extra_context = extra_context == Py_None ? NULL : extra_context;
        if (run_now) {
            run_callback(self, extra, extra_context);
        }
        else if (schedule_callback(self, extra, extra_context) < 0) {
            PyErr_WriteUnraisable(extra);
        }
    }
    Py_XDECREF(callback);
    Py_XDECREF(context);
    Py_XDECREF(more);
}

void
waiter_settle(PyObject *op, PyObject *value, PyObject *error, bool run_now)
{
    WaiterObject *self = WAITER(op);
    if (self->state_ != WAITER_PENDING) {
        Py_XDECREF(value);
        Py_XDECREF(error);
        return; /* cancelled while the operation ran */
    }
    self->state_ = WAITER_DONE;
    self->value = value;
    self->error = error;
    Py_INCREF(op); /* a callback may drop the last other reference */
    fire_callbacks(self, run_now);
    Py_DECREF(op);
}

/* Raise CancelledError with the message cancel() got. */
static PyObject *
raise_cancelled(WaiterObject *self)
{
    PyObject *error = self->cancel_message != NULL
                          ? PyObject_CallOneArg(self->state->cancelled_error,
                                                self->cancel_message)
                          : PyObject_CallNoArgs(self->state->cancelled_error);
    if (error != NULL) {
        PyErr_SetObject(self->state->cancelled_error, error);
        Py_DECREF(error);
    }
    return NULL;
}

PyObject *
waiter_outcome(PyObject *op)
{
    WaiterObject *self = WAITER(op);
    switch (self->state_) {
    case WAITER_PENDING:
        PyErr_SetString(self->state->invalid_state_error, "Result is not ready.");
        return NULL;
    case WAITER_CANCELLED:
        return raise_cancelled(self);
    case WAITER_DONE:
        break;
    }
    if (self->error != NULL) {
        PyErr_SetObject((PyObject *)Py_TYPE(self->error), self->error);
        return NULL;
    }
    return Py_NewRef(self->value != NULL ? self->value : Py_None);
}

void
waiter_mark_blocking(PyObject *op)
{
    WAITER(op)->blocking = true;
}

void
waiter_refuse_cancel(PyObject *op)
{
    WAITER(op)->refuses_cancel = true;
}

bool
waiter_cancel(PyObject *op, PyObject *message)
{
    WaiterObject *self = WAITER(op);
    if (self->state_ != WAITER_PENDING) {
        return false;
    }
    self->state_ = WAITER_CANCELLED;
    self->cancel_message = Py_XNewRef(message);
    Py_INCREF(op);
    fire_callbacks(self, false);
    Py_DECREF(op);
    return true;
}

/* ---------------------------------------------------------------------------
 * The future protocol, for Task and friends
 */

static PyObject *
waiter_result(PyObject *op, PyObject *Py_UNUSED(ignored))
{
    return waiter_outcome(op);
}

static PyObject *
waiter_exception(PyObject *op, PyObject *Py_UNUSED(ignored))
{
    WaiterObject *self = WAITER(op);
    if (self->state_ == WAITER_PENDING) {
        PyErr_SetString(self->state->invalid_state_error, "Exception is not set.");
        return NULL;
    }
    if (self->state_ == WAITER_CANCELLED) {
        return raise_cancelled(self);
    }
    return Py_NewRef(self->error != NULL ? self->error : Py_None);
}

static PyObject *
waiter_done(PyObject *op, PyObject *Py_UNUSED(ignored))
{
    return PyBool_FromLong(WAITER(op)->state_ != WAITER_PENDING);
}

static PyObject *
waiter_cancelled(PyObject *op, PyObject *Py_UNUSED(ignored))
{
    return PyBool_FromLong(WAITER(op)->state_ == WAITER_CANCELLED);
}

static PyObject *
waiter_cancel_impl(PyObject *op, PyObject *message)
{
    if (WAITER(op)->refuses_cancel) {
        /* A task cancelled meanwhile wakes when the operation is done, and
         * its call holds the cancellation back (call_defer_cancel). */
        return Py_NewRef(Py_False);
    }
    return PyBool_FromLong(waiter_cancel(op, message == Py_None ? NULL : message));
}

static PyObject *
waiter_cancel_method(PyObject *op, PyObject *const *args, Py_ssize_t nargs,
                     PyObject *kwnames)
{
    static const char *const keywords[] = {"msg"};
    PyObject *return_value = NULL;
    PyObject *argsbuf[1];

    if (unpack_keywords("cancel", args, nargs, kwnames, keywords, 0, 1, argsbuf) < 0) {
        goto exit;
    }
    return_value = waiter_cancel_impl(op, argsbuf[0] != NULL ? argsbuf[0] : Py_None);

exit:
    return return_value;
}

static PyObject *
waiter_get_loop(PyObject *op, PyObject *Py_UNUSED(ignored))
{
    return Py_NewRef(WAITER(op)->loop);
}

/* add_done_callback(fn, /, *, context=None), parsed by hand: a task calls it
 * for every operation it waits on, and the generic parser cost more than the
 * rest of the call. */
static int
parse_done_callback(PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames,
                    PyObject **callback, PyObject **context)
{
    Py_ssize_t nkw = kwnames != NULL ? PyTuple_GET_SIZE(kwnames) : 0;
    *context = NULL;
    if (nargs != 1) {
        PyErr_Format(PyExc_TypeError,
                     "add_done_callback() takes exactly 1 positional argument (%zd given)",
                     nargs);
        return -1;
    }
    *callback = args[0];
    for (Py_ssize_t i = 0; i < nkw; i++) {
        PyObject *name = PyTuple_GET_ITEM(kwnames, i);
        if (!PyUnicode_Check(name) ||
            PyUnicode_CompareWithASCIIString(name, "context") != 0) {
            PyErr_Format(PyExc_TypeError,
                         "add_done_callback() got an unexpected keyword argument %R",
                         name);
            return -1;
        }
        *context = args[nargs + i] == Py_None ? NULL : args[nargs + i];
    }
    return 0;
}

static PyObject *
waiter_add_done_callback(PyObject *op, PyObject *const *args, Py_ssize_t nargsf,
                         PyObject *kwnames)
{
    WaiterObject *self = WAITER(op);
    PyObject *callback, *context;
    if (parse_done_callback(args, PyVectorcall_NARGS(nargsf), kwnames, &callback,
                            &context) < 0) {
        return NULL;
    }
    if (self->state_ != WAITER_PENDING) {
        if (schedule_callback(self, callback, context) < 0) {
            return NULL;
        }
        Py_RETURN_NONE;
    }
    if (self->callback == NULL && self->more == NULL) {
        self->callback = Py_NewRef(callback);
        self->context = Py_XNewRef(context);
        Py_RETURN_NONE;
    }
    if (self->more == NULL && (self->more = PyList_New(0)) == NULL) {
        return NULL;
    }
    PyObject *pair = PyTuple_Pack(2, callback, context != NULL ? context : Py_None);
    if (pair == NULL || PyList_Append(self->more, pair) < 0) {
        Py_XDECREF(pair);
        return NULL;
    }
    Py_DECREF(pair);
    Py_RETURN_NONE;
}

static PyObject *
waiter_remove_done_callback(PyObject *op, PyObject *callback)
{
    WaiterObject *self = WAITER(op);
    Py_ssize_t removed = 0;
    if (self->callback != NULL) {
        int same = PyObject_RichCompareBool(self->callback, callback, Py_EQ);
        if (same < 0) {
            return NULL;
        }
        if (same) {
            Py_CLEAR(self->callback);
            Py_CLEAR(self->context);
            removed++;
        }
    }
    for (Py_ssize_t i = self->more != NULL ? PyList_GET_SIZE(self->more) : 0; i-- > 0;) {
        PyObject *pair = PyList_GET_ITEM(self->more, i);
        int same = PyObject_RichCompareBool(PyTuple_GET_ITEM(pair, 0), callback, Py_EQ);
        if (same < 0 || (same && PySequence_DelItem(self->more, i) < 0)) {
            return NULL;
        }
        removed += same;
    }
    return PyLong_FromSsize_t(removed);
}

static PyObject *
waiter_get_blocking(PyObject *op, void *Py_UNUSED(closure))
{
    return PyBool_FromLong(WAITER(op)->blocking);
}

static int
waiter_set_blocking(PyObject *op, PyObject *value, void *Py_UNUSED(closure))
{
    int truth = value == NULL ? 0 : PyObject_IsTrue(value);
    if (truth < 0) {
        return -1;
    }
    WAITER(op)->blocking = truth;
    return 0;
}

/* `await waiter` (or `yield from`): suspend once, then return the result.
 * The waiter is its own iterator, as Future's iterator is in spirit. */
static PyObject *
waiter_await(PyObject *op)
{
    return Py_NewRef(op);
}

static PyObject *
waiter_iternext(PyObject *op)
{
    WaiterObject *self = WAITER(op);
    if (self->state_ == WAITER_PENDING) {
        if (self->blocking) {
            PyErr_SetString(PyExc_RuntimeError, "await wasn't used with future");
            return NULL;
        }
        self->blocking = true;
        return Py_NewRef(op);
    }
    PyObject *value = waiter_outcome(op);
    if (value == NULL) {
        return NULL;
    }
    /* Through an instance, so that a tuple value is not unpacked. */
    PyObject *stop = PyObject_CallOneArg(PyExc_StopIteration, value);
    Py_DECREF(value);
    if (stop != NULL) {
        PyErr_SetObject(PyExc_StopIteration, stop);
        Py_DECREF(stop);
    }
    return NULL;
}

static PyObject *
waiter_repr(PyObject *op)
{
    static const char *const states[] = {"pending", "finished", "cancelled"};
    return PyUnicode_FromFormat("<%s %s>", Py_TYPE(op)->tp_name,
                                states[WAITER(op)->state_]);
}

static int
waiter_traverse(PyObject *op, visitproc visit, void *arg)
{
    WaiterObject *self = WAITER(op);
    Py_VISIT(Py_TYPE(op));
    Py_VISIT(self->loop);
    Py_VISIT(self->callback);
    Py_VISIT(self->context);
    Py_VISIT(self->more);
    Py_VISIT(self->value);
    Py_VISIT(self->error);
    Py_VISIT(self->cancel_message);
    return 0;
}

static int
waiter_clear(PyObject *op)
{
    WaiterObject *self = WAITER(op);
    Py_CLEAR(self->loop);
    Py_CLEAR(self->callback);
    Py_CLEAR(self->context);
    Py_CLEAR(self->more);
    Py_CLEAR(self->value);
    Py_CLEAR(self->error);
    Py_CLEAR(self->cancel_message);
    return 0;
}

static void
waiter_dealloc(PyObject *op)
{
    PyTypeObject *type = Py_TYPE(op);
    PyObject_GC_UnTrack(op);
    waiter_clear(op);
    type->tp_free(op);
    Py_DECREF(type);
}

static PyMethodDef waiter_methods[] = {
    {"result", waiter_result, METH_NOARGS,
     "result($self, /)\n--\n\nThe value, or raise the error."},
    {"exception", waiter_exception, METH_NOARGS,
     "exception($self, /)\n--\n\nThe error, or None."},
    {"done", waiter_done, METH_NOARGS,
     "done($self, /)\n--\n\nWhether it is settled or cancelled."},
    {"cancelled", waiter_cancelled, METH_NOARGS,
     "cancelled($self, /)\n--\n\nWhether it was cancelled."},
    {"cancel", (PyCFunction)(void (*)(void))waiter_cancel_method,
     METH_FASTCALL | METH_KEYWORDS,
     "cancel($self, /, msg=None)\n--\n\n"
     "Stop waiting; the operation's outcome is dropped."},
    {"get_loop", waiter_get_loop, METH_NOARGS,
     "get_loop($self, /)\n--\n\nThe event loop it belongs to."},
    {"add_done_callback", (PyCFunction)(void (*)(void))waiter_add_done_callback,
     METH_FASTCALL | METH_KEYWORDS,
     "add_done_callback($self, fn, /, *, context=None)\n--\n\n"
     "As asyncio.Future.add_done_callback."},
    {"remove_done_callback", waiter_remove_done_callback, METH_O,
     "remove_done_callback($self, fn, /)\n--\n\n"
     "As asyncio.Future.remove_done_callback."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef waiter_getset[] = {
    {"_asyncio_future_blocking", waiter_get_blocking, waiter_set_blocking, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot waiter_slots[] = {
    {Py_tp_doc, "The future an awaitable operation waits on."},
    {Py_am_await, waiter_await},
    {Py_tp_iter, PyObject_SelfIter},
    {Py_tp_iternext, waiter_iternext},
    {Py_tp_methods, waiter_methods},
    {Py_tp_getset, waiter_getset},
    {Py_tp_repr, waiter_repr},
    {Py_tp_traverse, waiter_traverse},
    {Py_tp_clear, waiter_clear},
    {Py_tp_dealloc, waiter_dealloc},
    {0, NULL},
};

static PyType_Spec waiter_spec = {
    .name = "asyncfile.core._aio.Waiter",
    .basicsize = sizeof(WaiterObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_IMMUTABLETYPE |
             Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = waiter_slots,
};

int
waiter_module_init(PyObject *module, aio_state *state)
{
    state->waiter_type =
        (PyTypeObject *)PyType_FromModuleAndSpec(module, &waiter_spec, NULL);
    if (state->waiter_type == NULL) {
        return -1;
    }
    PyObject *exceptions = PyImport_ImportModule("asyncio.exceptions");
    if (exceptions == NULL) {
        return -1;
    }
    state->cancelled_error = PyObject_GetAttrString(exceptions, "CancelledError");
    state->invalid_state_error = PyObject_GetAttrString(exceptions, "InvalidStateError");
    Py_DECREF(exceptions);
    if (state->cancelled_error == NULL || state->invalid_state_error == NULL) {
        return -1;
    }
    state->kwnames_context = Py_BuildValue("(s)", "context");
    return state->kwnames_context == NULL ? -1 : 0;
}
