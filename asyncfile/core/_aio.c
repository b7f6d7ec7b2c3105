/*
 * asyncfile.core._aio: the native core.
 *
 * This file holds the module: its state, its initialisation (PEP 489) and the
 * probes that tell the Python layer which kernel interfaces this process may
 * use.  The probes run when a backend module asks, never at import.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <string.h>
#include <sys/mman.h>

#include "syscall.h"

PyDoc_STRVAR(probe_io_uring__doc__,
"probe_io_uring($module, /)\n--\n\n"
"Set up and tear down a one-entry io_uring.\n\n"
"Return 0 when this process may use io_uring, else the errno that\n"
"io_uring_setup() gave (ENOSYS: no kernel support; EPERM: disabled by\n"
"kernel.io_uring_disabled or a seccomp filter).");

static PyObject *
probe_io_uring(PyObject *module, PyObject *Py_UNUSED(ignored))
{
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
}

PyDoc_STRVAR(probe_linux_aio__doc__,
"probe_linux_aio($module, /)\n--\n\n"
"Set up and tear down a one-event Linux AIO context.\n\n"
"Return 0 when this process may use Linux AIO, else the errno that\n"
"io_setup() gave (ENOSYS: no kernel support; EAGAIN: fs.aio-max-nr is\n"
"used up).");

static PyObject *
probe_linux_aio(PyObject *module, PyObject *Py_UNUSED(ignored))
{
    aio_context_t ctx = 0;
    int ret;

    Py_BEGIN_ALLOW_THREADS
    ret = sys_io_setup(1, &ctx);
    if (ret == 0) {
        sys_io_destroy(ctx);
    }
    Py_END_ALLOW_THREADS
    return PyLong_FromLong(ret < 0 ? -ret : 0);
}

static PyMethodDef aio_methods[] = {
    {"probe_io_uring", probe_io_uring, METH_NOARGS, probe_io_uring__doc__},
    {"probe_linux_aio", probe_linux_aio, METH_NOARGS, probe_linux_aio__doc__},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot aio_slots[] = {
#if PY_VERSION_HEX >= 0x030C0000
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
#endif
    {0, NULL},
};

PyDoc_STRVAR(aio__doc__, "Native asynchronous file I/O backends for asyncfile.core.");

static struct PyModuleDef aio_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "asyncfile.core._aio",
    .m_doc = aio__doc__,
    .m_size = 0,
    .m_methods = aio_methods,
    .m_slots = aio_slots,
};

PyMODINIT_FUNC
PyInit__aio(void)
{
    return PyModuleDef_Init(&aio_module);
}
