/*
 * AsyncioMethods: the awaitable read, readinto and write of the native
 * backends' AsyncioContext (asyncio_native.py is the rest of that class).
 *
 * Called positionally while the context serves the running loop, a method
 * starts the native context's operation at once, with no Python frame in
 * between: that frame and its checks were a large share of a page-cache
 * read's cost (benchmarks/README.md).  Every other call (keywords, no loop
 * bound yet, another loop, a closed or forked context) goes to the Python
 * class's _read, _readinto or _write, which decide it as before.
 */
#include "core.h"

#include <string.h>

typedef struct {
    PyObject_HEAD
    PyObject *native; /* the native context served; set by the Python class */
} methods_object;

#define METHODS(op) ((methods_object *)(op))

typedef PyObject *(*native_method)(PyObject *, PyObject *const *, Py_ssize_t);

/* The native context if it serves the running loop now, else NULL (with an
 * error set only when finding out failed). */
static struct context *
serving_context(PyObject *self)
{
    PyObject *native = METHODS(self)->native;
    if (native == NULL) {
        return NULL;
    }
    struct context *ctx = CONTEXT(native);
    return context_serves_running_loop(ctx) > 0 ? ctx : NULL;
}

/* self.<name>(*args, **kwargs), as the call came. */
static PyObject *
call_python_method(PyObject *self, PyObject *name, PyObject *const *args,
                   Py_ssize_t nargs, PyObject *kwnames)
{
    Py_ssize_t count = nargs + (kwnames != NULL ? PyTuple_GET_SIZE(kwnames) : 0);
    PyObject *small[8];
    PyObject **stack = count < 8 ? small : PyMem_New(PyObject *, (size_t)count + 1);
    if (stack == NULL) {
        return PyErr_NoMemory();
    }
    stack[0] = self;
    memcpy(stack + 1, args, (size_t)count * sizeof(*args));
    PyObject *result = PyObject_VectorcallMethod(name, stack, (size_t)nargs + 1, kwnames);
    if (stack != small) {
        PyMem_Free(stack);
    }
    return result;
}

/* The fourth argument, priority, is accepted and ignored, as caio's native
 * backends do. */
static PyObject *
start_or_defer(PyObject *self, PyTypeObject *defining_class, PyObject *const *args,
               size_t nargsf, PyObject *kwnames, native_method start, size_t which)
{
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    if (kwnames == NULL && nargs >= 2 && nargs <= 4) {
        struct context *ctx = serving_context(self);
        if (ctx != NULL) {
            return start((PyObject *)ctx, args, nargs < 3 ? nargs : 3);
        }
        if (PyErr_Occurred()) {
            return NULL;
        }
    }
    aio_state *state = PyType_GetModuleState(defining_class);
    return call_python_method(self, state->str_deferred[which], args, nargs, kwnames);
}

PyDoc_STRVAR(methods_read__doc__,
"read($self, nbytes, fd, offset=0, priority=0)\n--\n\n"
"Read up to nbytes at offset; fewer only at end of file.");

static PyObject *
methods_read(PyObject *self, PyTypeObject *defining_class, PyObject *const *args,
             size_t nargsf, PyObject *kwnames)
{
    return start_or_defer(self, defining_class, args, nargsf, kwnames, context_aread,
                          DEFERRED_READ);
}

PyDoc_STRVAR(methods_readinto__doc__,
"readinto($self, buffer, fd, offset=0, priority=0)\n--\n\n"
"Fill buffer from offset; the count is short only at end of file.");

static PyObject *
methods_readinto(PyObject *self, PyTypeObject *defining_class, PyObject *const *args,
                 size_t nargsf, PyObject *kwnames)
{
    return start_or_defer(self, defining_class, args, nargsf, kwnames,
                          context_areadinto, DEFERRED_READINTO);
}

PyDoc_STRVAR(methods_write__doc__,
"write($self, payload, fd, offset=0, priority=0)\n--\n\n"
"Write all of payload at offset; return the count written.");

static PyObject *
methods_write(PyObject *self, PyTypeObject *defining_class, PyObject *const *args,
              size_t nargsf, PyObject *kwnames)
{
    return start_or_defer(self, defining_class, args, nargsf, kwnames, context_awrite,
                          DEFERRED_WRITE);
}

PyDoc_STRVAR(methods_serves_running_loop__doc__,
"serves_running_loop($self, /)\n--\n\n"
"Whether the context is open, made (or rebuilt) after the last fork, and\n"
"bound to the event loop running now in this thread.");

static PyObject *
methods_serves_running_loop(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    PyObject *native = METHODS(self)->native;
    int serving = native == NULL ? 0 : context_serves_running_loop(CONTEXT(native));
    return serving < 0 ? NULL : PyBool_FromLong(serving);
}

static PyObject *
methods_get_native(PyObject *self, void *Py_UNUSED(closure))
{
    PyObject *native = METHODS(self)->native;
    return Py_NewRef(native != NULL ? native : Py_None);
}

static int
methods_set_native(PyObject *self, PyObject *value, void *Py_UNUSED(closure))
{
    if (value == NULL || value == Py_None) {
        Py_CLEAR(METHODS(self)->native);
        return 0;
    }
    if (!is_native_context(value)) {
        PyErr_Format(PyExc_TypeError, "_native must be a native context, not %.200s",
                     Py_TYPE(value)->tp_name);
        return -1;
    }
    Py_XSETREF(METHODS(self)->native, Py_NewRef(value));
    return 0;
}

static int
methods_traverse(PyObject *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(METHODS(self)->native);
    return 0;
}

static int
methods_clear(PyObject *self)
{
    Py_CLEAR(METHODS(self)->native);
    return 0;
}

static void
methods_dealloc(PyObject *self)
{
    PyTypeObject *type = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    (void)methods_clear(self);
    type->tp_free(self);
    Py_DECREF(type);
}

#define METHOD_FLAGS (METH_METHOD | METH_FASTCALL | METH_KEYWORDS)

static PyMethodDef methods_methods[] = {
    {"read", (PyCFunction)(void (*)(void))methods_read, METHOD_FLAGS, methods_read__doc__},
    {"readinto", (PyCFunction)(void (*)(void))methods_readinto, METHOD_FLAGS,
     methods_readinto__doc__},
    {"write", (PyCFunction)(void (*)(void))methods_write, METHOD_FLAGS,
     methods_write__doc__},
    {"serves_running_loop", methods_serves_running_loop, METH_NOARGS,
     methods_serves_running_loop__doc__},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef methods_getset[] = {
    {"_native", methods_get_native, methods_set_native,
     "The native context these methods start operations on.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

PyDoc_STRVAR(methods__doc__,
"The awaitable read, readinto and write of a native AsyncioContext, which\n"
"subclasses this with _read, _readinto and _write for every call these do\n"
"not start themselves.");

static PyType_Slot methods_slots[] = {
    {Py_tp_doc, (void *)methods__doc__},
    {Py_tp_new, PyType_GenericNew},
    {Py_tp_methods, methods_methods},
    {Py_tp_getset, methods_getset},
    {Py_tp_traverse, methods_traverse},
    {Py_tp_clear, methods_clear},
    {Py_tp_dealloc, methods_dealloc},
    {0, NULL},
};

static PyType_Spec methods_spec = {
    .name = "asyncfile.core._aio.AsyncioMethods",
    .basicsize = sizeof(methods_object),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .slots = methods_slots,
};

int
adapter_module_init(PyObject *module, aio_state *state)
{
    static const char *const deferred[DEFERRED_COUNT] = {
        [DEFERRED_READ] = "_read",
        [DEFERRED_READINTO] = "_readinto",
        [DEFERRED_WRITE] = "_write",
    };
    for (size_t i = 0; i < DEFERRED_COUNT; i++) {
        state->str_deferred[i] = PyUnicode_InternFromString(deferred[i]);
        if (state->str_deferred[i] == NULL) {
            return -1;
        }
    }
    state->methods_type =
        (PyTypeObject *)PyType_FromModuleAndSpec(module, &methods_spec, NULL);
    if (state->methods_type == NULL) {
        return -1;
    }
    return PyModule_AddType(module, state->methods_type);
}
