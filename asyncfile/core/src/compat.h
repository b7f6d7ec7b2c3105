/* What differs between the CPython versions asyncfile supports (3.10+). */
#ifndef ASYNCFILE_COMPAT_H
#define ASYNCFILE_COMPAT_H

#include <Python.h>

/* The exception being raised, normalised, as a new reference; clears it. */
static inline PyObject *
fetch_exception(void)
{
#if PY_VERSION_HEX >= 0x030C0000
    return PyErr_GetRaisedException();
#else
    PyObject *type, *value, *traceback;
    PyErr_Fetch(&type, &value, &traceback);
    PyErr_NormalizeException(&type, &value, &traceback);
    if (value != NULL && traceback != NULL) {
        PyException_SetTraceback(value, traceback);
    }
    Py_XDECREF(type);
    Py_XDECREF(traceback);
    return value;
#endif
}

/* Raise `exc` (a reference this steals), as fetch_exception returned it;
 * NULL leaves no exception set. */
static inline void
restore_exception(PyObject *exc)
{
#if PY_VERSION_HEX >= 0x030C0000
    PyErr_SetRaisedException(exc);
#else
    if (exc == NULL) {
        PyErr_Clear();
        return;
    }
    PyErr_Restore(Py_NewRef((PyObject *)Py_TYPE(exc)), exc,
                  PyException_GetTraceback(exc));
#endif
}

#endif /* ASYNCFILE_COMPAT_H */
