/*
 * InlineResult: the awaitable for an operation that completed on the spot.
 *
 * Awaiting it returns the value (or raises the error) without suspending the
 * task, unless the loop's inline budget is spent: then it first yields once,
 * as asyncio.sleep(0) does, so the event loop gets a turn.
 */
#include "core.h"

typedef struct {
    PyObject_HEAD
    PyObject *value;
    PyObject *error;
    bool must_yield;
} InlineResultObject;

PyObject *
inline_result_new(aio_state *state, PyObject *value, PyObject *error, bool must_yield)
{
    PyTypeObject *type = state->inline_result_type;
    InlineResultObject *self = (InlineResultObject *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    self->value = Py_XNewRef(value);
    self->error = Py_XNewRef(error);
    self->must_yield = must_yield;
    return (PyObject *)self;
}

static PyObject *
inline_result_await(PyObject *self)
{
    return Py_NewRef(self);
}

static PySendResult
inline_result_send(PyObject *op, PyObject *Py_UNUSED(arg), PyObject **result)
{
    InlineResultObject *self = (InlineResultObject *)op;
    if (self->must_yield) {
        self->must_yield = false;
        *result = Py_NewRef(Py_None);
        return PYGEN_NEXT;
    }
    if (self->error != NULL) {
        PyErr_SetObject((PyObject *)Py_TYPE(self->error), self->error);
        Py_CLEAR(self->error);
        *result = NULL;
        return PYGEN_ERROR;
    }
    *result = self->value != NULL ? self->value : Py_NewRef(Py_None);
    self->value = NULL;
    return PYGEN_RETURN;
}

static PyObject *
inline_result_next(PyObject *op)
{
    PyObject *result;
    switch (inline_result_send(op, Py_None, &result)) {
    case PYGEN_NEXT:
        return result;
    case PYGEN_RETURN:
        if (result == Py_None) {
            PyErr_SetNone(PyExc_StopIteration);
        }
        else {
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
inline_result_throw(PyObject *op, PyObject *const *args, Py_ssize_t nargs)
{
    InlineResultObject *self = (InlineResultObject *)op;
    Py_CLEAR(self->value);
    Py_CLEAR(self->error);
    if (nargs < 1) {
        PyErr_SetString(PyExc_TypeError, "throw expected at least 1 argument");
        return NULL;
    }
    PyObject *exc = args[0];
    if (PyExceptionClass_Check(exc)) {
        PyErr_SetObject(exc, nargs > 1 ? args[1] : NULL);
    }
    else {
        PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
    }
    return NULL;
}

static PyObject *
inline_result_send_method(PyObject *op, PyObject *arg)
{
    return inline_result_next(op);
}

static PyObject *
inline_result_close(PyObject *op, PyObject *Py_UNUSED(ignored))
{
    InlineResultObject *self = (InlineResultObject *)op;
    Py_CLEAR(self->value);
    Py_CLEAR(self->error);
    Py_RETURN_NONE;
}

static int
inline_result_traverse(PyObject *op, visitproc visit, void *arg)
{
    InlineResultObject *self = (InlineResultObject *)op;
    Py_VISIT(Py_TYPE(op));
    Py_VISIT(self->value);
    Py_VISIT(self->error);
    return 0;
}

static int
inline_result_clear(PyObject *op)
{
    InlineResultObject *self = (InlineResultObject *)op;
    Py_CLEAR(self->value);
    Py_CLEAR(self->error);
    return 0;
}

static void
inline_result_dealloc(PyObject *op)
{
    PyTypeObject *type = Py_TYPE(op);
    PyObject_GC_UnTrack(op);
    inline_result_clear(op);
    type->tp_free(op);
    Py_DECREF(type);
}

static PyMethodDef inline_result_methods[] = {
    {"send", inline_result_send_method, METH_O, NULL},
    {"throw", (PyCFunction)(void (*)(void))inline_result_throw, METH_FASTCALL, NULL},
    {"close", inline_result_close, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot inline_result_slots[] = {
    {Py_tp_doc, "The outcome of an operation that completed without waiting."},
    {Py_am_await, inline_result_await},
    {Py_am_send, inline_result_send},
    {Py_tp_iter, PyObject_SelfIter},
    {Py_tp_iternext, inline_result_next},
    {Py_tp_methods, inline_result_methods},
    {Py_tp_traverse, inline_result_traverse},
    {Py_tp_clear, inline_result_clear},
    {Py_tp_dealloc, inline_result_dealloc},
    {0, NULL},
};

static PyType_Spec inline_result_spec = {
    .name = "asyncfile.core._aio.InlineResult",
    .basicsize = sizeof(InlineResultObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_IMMUTABLETYPE |
             Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = inline_result_slots,
};

int
inline_result_module_init(PyObject *module, aio_state *state)
{
    state->inline_result_type =
        (PyTypeObject *)PyType_FromModuleAndSpec(module, &inline_result_spec, NULL);
    return state->inline_result_type == NULL ? -1 : 0;
}
