/*
 * Argument parsing, in the shape Argument Clinic generates: each method's
 * parser (METH_O, METH_FASTCALL, or METH_FASTCALL | METH_KEYWORDS) checks the
 * count, unpacks keywords into one array, converts each argument with a
 * converter from here, and calls its *_impl with C values.  The errors are
 * the ones PyArg_ParseTuple and PyArg_ParseTupleAndKeywords give for the
 * formats they replace ("i", "I", "d", "p", "O!"), word for word.
 *
 * Relies on: nothing but Python (core.h declares what is here).
 */
#include "core.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

int
check_positional(const char *name, Py_ssize_t nargs, Py_ssize_t min, Py_ssize_t max)
{
    if (nargs >= min && nargs <= max) {
        return 0;
    }
    Py_ssize_t bound = nargs < min ? min : max;
    PyErr_Format(PyExc_TypeError, "%.150s() takes %s %zd argument%s (%zd given)", name,
                 min == max ? "exactly" : nargs < min ? "at least" : "at most", bound,
                 bound == 1 ? "" : "s", nargs);
    return -1;
}

/* Where `given` stands in `keywords`, or -1. */
static Py_ssize_t
keyword_index(PyObject *given, const char *const *keywords, Py_ssize_t count)
{
    for (Py_ssize_t i = 0; i < count; i++) {
        if (PyUnicode_Check(given) && PyUnicode_CompareWithASCIIString(given, keywords[i]) == 0) {
            return i;
        }
    }
    return -1;
}

/* A keyword no parameter took: one given by position too, or unknown. */
static int
reject_keywords(const char *name, Py_ssize_t nargs, PyObject *names,
                const char *const *keywords, Py_ssize_t count)
{
    Py_ssize_t n = PySequence_Fast_GET_SIZE(names);
    for (Py_ssize_t i = 0; i < nargs && i < count; i++) {
        for (Py_ssize_t k = 0; k < n; k++) {
            if (keyword_index(PySequence_Fast_GET_ITEM(names, k), keywords, count) == i) {
                PyErr_Format(PyExc_TypeError,
                             "argument for %.200s() given by name ('%s') and position (%zd)",
                             name, keywords[i], i + 1);
                return -1;
            }
        }
    }
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *given = PySequence_Fast_GET_ITEM(names, k);
        if (keyword_index(given, keywords, count) < 0) {
            PyErr_Format(PyExc_TypeError, "'%S' is an invalid keyword argument for %.200s()",
                         given, name);
            return -1;
        }
    }
    return 0;
}

int
unpack_keywords(const char *name, PyObject *const *args, Py_ssize_t nargs,
                PyObject *kwargs, const char *const *keywords, Py_ssize_t required,
                Py_ssize_t count, PyObject **out)
{
    bool by_dict = kwargs != NULL && PyDict_Check(kwargs);
    Py_ssize_t nkw = kwargs == NULL ? 0
                     : by_dict      ? PyDict_GET_SIZE(kwargs)
                                    : PyTuple_GET_SIZE(kwargs);
    if (nargs + nkw > count) {
        PyErr_Format(PyExc_TypeError, "%.200s() takes at most %zd %sargument%s (%zd given)",
                     name, count, nargs == 0 ? "keyword " : "", count == 1 ? "" : "s",
                     nargs + nkw);
        return -1;
    }
    Py_ssize_t taken = 0;
    for (Py_ssize_t i = 0; i < count; i++) {
        out[i] = NULL;
        if (i < nargs) {
            out[i] = args[i];
        }
        else if (by_dict) {
            out[i] = PyDict_GetItemString(kwargs, keywords[i]);
        }
        else {
            for (Py_ssize_t k = 0; k < nkw && out[i] == NULL; k++) {
                if (PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(kwargs, k),
                                                     keywords[i]) == 0) {
                    out[i] = args[nargs + k];
                }
            }
        }
        taken += i >= nargs && out[i] != NULL;
        if (out[i] == NULL && i < required) {
            PyErr_Format(PyExc_TypeError, "%.200s() missing required argument '%s' (pos %zd)",
                         name, keywords[i], i + 1);
            return -1;
        }
    }
    if (taken == nkw) {
        return 0;
    }
    PyObject *names = by_dict ? PyDict_Keys(kwargs) : Py_NewRef(kwargs);
    if (names == NULL) {
        return -1;
    }
    int ret = reject_keywords(name, nargs, names, keywords, count);
    Py_DECREF(names);
    return ret;
}

int
bad_argument(const char *name, Py_ssize_t position, const char *expected, PyObject *arg)
{
    PyErr_Format(PyExc_TypeError, "%.200s() argument %zd must be %.50s, not %.50s", name,
                 position, expected, arg == Py_None ? "None" : Py_TYPE(arg)->tp_name);
    return 0;
}

int
int_converter(PyObject *arg, void *out)
{
    long value = PyLong_AsLong(arg);
    if (value == -1 && PyErr_Occurred()) {
        return 0;
    }
    if (value > INT_MAX) {
        PyErr_SetString(PyExc_OverflowError, "signed integer is greater than maximum");
        return 0;
    }
    if (value < INT_MIN) {
        PyErr_SetString(PyExc_OverflowError, "signed integer is less than minimum");
        return 0;
    }
    *(int *)out = (int)value;
    return 1;
}

int
unsigned_int_mask_converter(PyObject *arg, void *out)
{
    unsigned int value = (unsigned int)PyLong_AsUnsignedLongMask(arg);
    if (value == (unsigned int)-1 && PyErr_Occurred()) {
        return 0;
    }
    *(unsigned int *)out = value;
    return 1;
}

int
double_converter(PyObject *arg, void *out)
{
    double value = PyFloat_AsDouble(arg);
    if (value == -1.0 && PyErr_Occurred()) {
        return 0;
    }
    *(double *)out = value;
    return 1;
}

int
bool_converter(PyObject *arg, void *out)
{
    int value = PyObject_IsTrue(arg);
    if (value < 0) {
        return 0;
    }
    *(int *)out = value;
    return 1;
}

/* A descriptor: ValueError below 0, OverflowError beyond an int. */
int
fd_converter(PyObject *arg, void *out)
{
    long fd = PyLong_AsLong(arg);
    if (fd == -1 && PyErr_Occurred()) {
        return 0;
    }
    if (fd < 0) {
        PyErr_Format(PyExc_ValueError, "file descriptor cannot be negative: %ld", fd);
        return 0;
    }
    if (fd > INT_MAX) {
        PyErr_Format(PyExc_OverflowError, "file descriptor out of range: %ld", fd);
        return 0;
    }
    *(int *)out = (int)fd;
    return 1;
}

static int
u64_converter(PyObject *arg, uint64_t *out, const char *what)
{
    PyObject *number = PyNumber_Index(arg);
    if (number == NULL) {
        return 0;
    }
    int overflow;
    long long value = PyLong_AsLongLongAndOverflow(number, &overflow);
    Py_DECREF(number);
    if (value == -1 && PyErr_Occurred()) {
        return 0;
    }
    if (overflow != 0 || value < 0) {
        PyErr_Format(PyExc_ValueError, "%s must be in [0, 2**63)%s, got %R", what,
                     strcmp(what, "offset") == 0 ? " or -1 (the current position)" : "",
                     arg);
        return 0;
    }
    *out = (uint64_t)value;
    return 1;
}

/* An offset in [0, 2**63), or the current position (OFFSET_CURRENT): -1, or
 * 2**64-1 as io_uring's u64 spells it (caio's suite writes to pipes so). */
int
offset_converter(PyObject *arg, void *out)
{
    PyObject *number = PyNumber_Index(arg);
    if (number == NULL) {
        return 0;
    }
    int overflow;
    long long value = PyLong_AsLongLongAndOverflow(number, &overflow);
    bool current = value == -1 && overflow == 0 && !PyErr_Occurred();
    if (overflow > 0) {
        unsigned long long wide = PyLong_AsUnsignedLongLong(number);
        current = wide == OFFSET_CURRENT && !PyErr_Occurred();
        PyErr_Clear(); /* beyond 2**64: the ValueError below says so */
    }
    Py_DECREF(number);
    if (current) {
        *(uint64_t *)out = OFFSET_CURRENT;
        return 1;
    }
    return u64_converter(arg, out, "offset");
}

int
size_converter(PyObject *arg, void *out)
{
    uint64_t size;
    if (!u64_converter(arg, &size, "size")) {
        return 0;
    }
    *(size_t *)out = (size_t)size;
    return 1;
}

