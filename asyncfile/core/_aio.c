/*
 * asyncfile.core._aio: the native core.
 *
 * This file holds the module: its state, its initialisation (PEP 489) and the
 * probes that tell the Python layer which kernel interfaces this process may
 * use.  The probes run when a backend module asks, never at import.  The
 * types live in src/: operation.c, context.c (with uring.c, kaio.c, thread.c
 * and pool.c behind it), call.c, and adapter.c for the asyncio adapter.
 */
#include "core.h"

#include <errno.h>
#include <string.h>

#ifndef ASYNCFILE_PORTABLE
#include "syscall.h"
#endif

PyDoc_STRVAR(probe_io_uring__doc__,
"probe_io_uring($module, /)\n--\n\n"
"Set up and tear down a one-entry io_uring.\n\n"
"Return 0 when this process may use io_uring, else the errno that\n"
"io_uring_setup() gave (ENOSYS: no kernel support, or a portable build;\n"
"EPERM: disabled by kernel.io_uring_disabled or a seccomp filter).");

static PyObject *
probe_io_uring(PyObject *module, PyObject *Py_UNUSED(ignored))
{
#ifdef ASYNCFILE_PORTABLE
    return PyLong_FromLong(ENOSYS);
#else
    struct io_uring_params params;
    int ring_fd;

    memset(&params, 0, sizeof(params));
    Py_BEGIN_ALLOW_THREADS
    ring_fd = sys_io_uring_setup(1, &params);
    if (ring_fd >= 0) {
        close(ring_fd);
    }
    Py_END_ALLOW_THREADS
    return PyLong_FromLong(ring_fd < 0 ? -ring_fd : 0);
#endif
}

PyDoc_STRVAR(probe_linux_aio__doc__,
"probe_linux_aio($module, /)\n--\n\n"
"Set up and tear down a one-event Linux AIO context.\n\n"
"Return 0 when this process may use Linux AIO, else the errno that\n"
"io_setup() gave (ENOSYS: no kernel support, or a portable build;\n"
"EAGAIN: fs.aio-max-nr is used up).");

static PyObject *
probe_linux_aio(PyObject *module, PyObject *Py_UNUSED(ignored))
{
#ifdef ASYNCFILE_PORTABLE
    return PyLong_FromLong(ENOSYS);
#else
    aio_context_t ctx = 0;
    int ret;

    Py_BEGIN_ALLOW_THREADS
    ret = sys_io_setup(1, &ctx);
    if (ret == 0) {
        sys_io_destroy(ctx);
    }
    Py_END_ALLOW_THREADS
    return PyLong_FromLong(ret < 0 ? -ret : 0);
#endif
}

static PyMethodDef aio_methods[] = {
    {"probe_io_uring", probe_io_uring, METH_NOARGS, probe_io_uring__doc__},
    {"probe_linux_aio", probe_linux_aio, METH_NOARGS, probe_linux_aio__doc__},
    {NULL, NULL, 0, NULL},
};

static aio_state *
get_state(PyObject *module)
{
    return PyModule_GetState(module);
}

static int
aio_exec(PyObject *module)
{
    aio_state *state = get_state(module);
    PyObject *errors = PyImport_ImportModule("asyncfile.core.errors");
    if (errors == NULL) {
        return -1;
    }
    state->error_from_errno = PyObject_GetAttrString(errors, "error_from_errno");
    state->buffer_type_error = PyObject_GetAttrString(errors, "BufferTypeError");
    state->queue_full_error = PyObject_GetAttrString(errors, "QueueFullError");
    Py_DECREF(errors);
    if (state->error_from_errno == NULL || state->buffer_type_error == NULL ||
        state->queue_full_error == NULL) {
        return -1;
    }
#ifdef ASYNCFILE_PORTABLE
    PyObject *portable = Py_True;
#else
    PyObject *portable = Py_False;
#endif
    if (PyModule_AddObjectRef(module, "PORTABLE", portable) < 0) {
        return -1;
    }
    if ((state->str_call_soon = PyUnicode_InternFromString("call_soon")) == NULL) {
        return -1;
    }
    PyObject *asyncio = PyImport_ImportModule("asyncio");
    if (asyncio == NULL) {
        return -1;
    }
    state->current_task = PyObject_GetAttrString(asyncio, "current_task");
    state->get_running_loop = PyObject_GetAttrString(asyncio, "_get_running_loop");
    Py_DECREF(asyncio);
    if (state->current_task == NULL || state->get_running_loop == NULL) {
        return -1;
    }
    if (operation_module_init(module, state) < 0 ||
        call_module_init(module, state) < 0 || waiter_module_init(module, state) < 0 ||
        context_module_init(module, state) < 0 || adapter_module_init(module, state) < 0 ||
        fs_module_init(module, state) < 0) {
        return -1;
    }
    return 0;
}

static int
aio_traverse(PyObject *module, visitproc visit, void *arg)
{
    aio_state *state = get_state(module);
    Py_VISIT(state->operation_type);
    Py_VISIT(state->uring_context_type);
    Py_VISIT(state->kaio_context_type);
    Py_VISIT(state->thread_context_type);
    Py_VISIT(state->call_type);
    if (state->spare_call != NULL) {
        Py_VISIT(Py_TYPE(state->spare_call));
    }
    Py_VISIT(state->waiter_type);
    Py_VISIT(state->methods_type);
    Py_VISIT(state->current_task);
    Py_VISIT(state->get_running_loop);
    Py_VISIT(state->cancelled_error);
    Py_VISIT(state->invalid_state_error);
    Py_VISIT(state->error_from_errno);
    Py_VISIT(state->buffer_type_error);
    Py_VISIT(state->queue_full_error);
    Py_VISIT(state->stat_result_type);
    Py_VISIT(state->statvfs_result_type);
    return 0;
}

static int
aio_clear(PyObject *module)
{
    aio_state *state = get_state(module);
    call_drop_spare(state);
    Py_CLEAR(state->operation_type);
    Py_CLEAR(state->uring_context_type);
    Py_CLEAR(state->kaio_context_type);
    Py_CLEAR(state->thread_context_type);
    Py_CLEAR(state->call_type);
    Py_CLEAR(state->waiter_type);
    Py_CLEAR(state->methods_type);
    Py_CLEAR(state->current_task);
    Py_CLEAR(state->get_running_loop);
    Py_CLEAR(state->cancelled_error);
    Py_CLEAR(state->invalid_state_error);
    Py_CLEAR(state->kwnames_context);
    Py_CLEAR(state->error_from_errno);
    Py_CLEAR(state->buffer_type_error);
    Py_CLEAR(state->queue_full_error);
    Py_CLEAR(state->stat_result_type);
    Py_CLEAR(state->statvfs_result_type);
    Py_CLEAR(state->str_call_soon);
    for (size_t i = 0; i < DEFERRED_COUNT; i++) {
        Py_CLEAR(state->str_deferred[i]);
    }
    return 0;
}

static void
aio_free(void *module)
{
    aio_clear((PyObject *)module);
}

static PyModuleDef_Slot aio_slots[] = {
    {Py_mod_exec, aio_exec},
#if PY_VERSION_HEX >= 0x030C0000
    {Py_mod_multiple_interpreters, Py_MOD_MULTIPLE_INTERPRETERS_NOT_SUPPORTED},
#endif
    {0, NULL},
};

PyDoc_STRVAR(aio__doc__, "Native asynchronous file I/O backends for asyncfile.core.");

static struct PyModuleDef aio_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "asyncfile.core._aio",
    .m_doc = aio__doc__,
    .m_size = sizeof(aio_state),
    .m_methods = aio_methods,
    .m_slots = aio_slots,
    .m_traverse = aio_traverse,
    .m_clear = aio_clear,
    .m_free = aio_free,
};

PyMODINIT_FUNC
PyInit__aio(void)
{
    return PyModuleDef_Init(&aio_module);
}
