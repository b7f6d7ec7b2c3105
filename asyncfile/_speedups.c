/*
 * asyncfile._speedups: the per-call cost of the file objects' common cases.
 *
 * A Python async iterator spends a few hundred nanoseconds per line in frames
 * and attribute lookups, several times what io's C readline costs.  TextLines
 * serves a line that is already decoded, needs no I/O and may be taken without
 * the file's lock straight from the file's own state (the same state, read and
 * written the same way, as TextIOWrapper._decoded_line); anything else goes to
 * the file's __anext__, so there is one meaning of "the next line".
 *
 * A coroutine method costs a frame per call even when it completes at once.
 * A FastPathMethod stands for such a method: its common case (text that fits the
 * pending bytes, a read the buffer or the page cache answers) is a plain
 * function, and the coroutine runs only when that declines.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

#include <stdbool.h>

typedef struct {
    PyTypeObject *text_lines_type;
    PyTypeObject *fast_path_method_type;
    PyTypeObject *fast_path_call_type;
    PyObject *str_owner;
    PyObject *str_anext;
    PyObject *str_throw;
    PyObject *str_close;
    /* The lock type last seen, and its _owner slot's member descriptor
     * (NULL: not a slot, looked up by name) */
    PyTypeObject *lock_type;
    PyObject *lock_owner_slot;
    PyObject *str_reads;
    PyObject *str_writes;
    PyObject *str_install;
    PyTypeObject *chunk_reader_type;
    PyTypeObject *chunks_type;
    PyTypeObject *raw_file_type;
    PyTypeObject *buffered_file_type;
    PyTypeObject *text_file_type;
    /* What closing a reader asks, once a close first does (NULL until then):
     * asyncfile._filesystem, whose close() closes the descriptor (looked up
     * at each call, as a Python caller would), and
     * asyncfile.contexts.running_loop_or_none */
    PyObject *filesystem_module;
    PyObject *running_loop;
    PyObject *str_closefd;
    PyObject *str_context;
    PyObject *context_kwnames; /* ("context",): _filesystem.close's keyword */
    /* The buffered class whose _reads and _writes flags these are */
    PyTypeObject *buffered_type;
    bool buffered_reads;
    bool buffered_writes;
} speedups_state;

static speedups_state *
get_state(PyObject *module)
{
    return PyModule_GetState(module);
}

/* ---------------------------------------------------------------------------
 * FastPathCall: what a coroutine method returns when its common case is in C.
 *
 * Like the coroutine it stands for, it does nothing until it is first
 * stepped, so calls still take effect in the order their tasks run.  Then
 * `fast` either completes the call at once, or the Python coroutine that does
 * the general case is created (`fallback(owner, arg)`, or `fallback()`
 * without an argument, `fallback(owner)` for a method without one) and every
 * step is forwarded to it.  A `fast` that
 * can complete the call once the loop has run may first ask for that turn
 * (wants_turn): the call yields as asyncio.sleep(0) does, and `fast` runs
 * again when it is next stepped.  A `fast` that starts the rest of the call
 * itself, as an awaitable, sets `inner` to it and returns NULL: every step is
 * then forwarded to it, as to the fallback.
 */

typedef struct FastPathCallObject FastPathCallObject;
/* The result if the call completes at once; NULL without an error if not. */
typedef PyObject *(*fast_path_fn)(FastPathCallObject *);

struct FastPathCallObject {
    PyObject_HEAD
    fast_path_fn fast;
    PyObject *fast_data; /* what `fast` needs besides the call, or NULL */
    PyObject *owner;    /* what the call is on (a file, an iterator) */
    PyObject *arg;      /* its argument, or NULL */
    PyObject *fallback; /* makes the Python coroutine */
    PyObject *inner;    /* the Python coroutine (or what `fast` started), once started */
    speedups_state *state;
    bool finished;
    /* Set by `fast` with a NULL result: let the loop run one turn (a bare
     * yield, as asyncio.sleep(0)'s), then try `fast` again.  Once a call. */
    bool wants_turn;
    bool had_turn;
    /* Without `arg`: the fallback is a method, called with the owner alone
     * (else it is called with no argument) */
    bool fallback_on_owner;
};

static void
fast_path_call_fill(FastPathCallObject *self, fast_path_fn fast, PyObject *fast_data,
              PyObject *owner, PyObject *arg, PyObject *fallback)
{
    self->fast = fast;
    self->fast_data = Py_XNewRef(fast_data);
    self->owner = Py_NewRef(owner);
    self->arg = Py_XNewRef(arg);
    self->fallback = Py_NewRef(fallback);
    self->inner = NULL;
    self->finished = false;
    self->wants_turn = false;
    self->had_turn = false;
    self->fallback_on_owner = false;
}

/* A FastPathCall for one call, reusing `*cache` once nothing else holds it (a
 * finished one holds no references: it is as good as new). */
static PyObject *
fast_path_call_new(PyObject **cache, speedups_state *state, fast_path_fn fast,
                  PyObject *fast_data, PyObject *owner, PyObject *arg,
                  PyObject *fallback)
{
    FastPathCallObject *self = (FastPathCallObject *)*cache;
    if (self != NULL && Py_REFCNT(self) == 1 && self->finished) {
        fast_path_call_fill(self, fast, fast_data, owner, arg, fallback);
        return Py_NewRef(self);
    }
    self = PyObject_GC_New(FastPathCallObject, state->fast_path_call_type);
    if (self == NULL) {
        return NULL;
    }
    self->state = state;
    fast_path_call_fill(self, fast, fast_data, owner, arg, fallback);
    PyObject_GC_Track(self);
    Py_XSETREF(*cache, Py_NewRef(self));
    return (PyObject *)self;
}

static void
fast_path_call_finish(FastPathCallObject *self)
{
    self->finished = true;
    Py_CLEAR(self->inner);
    Py_CLEAR(self->fast_data);
    Py_CLEAR(self->owner);
    Py_CLEAR(self->arg);
    Py_CLEAR(self->fallback);
}

/* Raise StopIteration(value), through an instance so that a tuple value is
 * not unpacked. */
static void
set_stop_iteration(PyObject *value)
{
    if (value == Py_None) {
        PyErr_SetNone(PyExc_StopIteration);
        return;
    }
    PyObject *stop = PyObject_CallOneArg(PyExc_StopIteration, value);
    if (stop != NULL) {
        PyErr_SetObject(PyExc_StopIteration, stop);
        Py_DECREF(stop);
    }
}

static PySendResult
fast_path_call_send(PyObject *op, PyObject *arg, PyObject **result)
{
    FastPathCallObject *self = (FastPathCallObject *)op;
    *result = NULL;
    if (self->finished) {
        PyErr_SetString(PyExc_RuntimeError, "cannot reuse already awaited coroutine");
        return PYGEN_ERROR;
    }
    if (self->inner == NULL) {
        if (arg != Py_None) {
            PyErr_SetString(PyExc_TypeError,
                            "can't send non-None value to a just-started coroutine");
            return PYGEN_ERROR;
        }
        PyObject *value = self->fast(self);
        if (value == NULL && !PyErr_Occurred()) {
            if (self->inner != NULL) {
                goto forward;
            }
            if (self->wants_turn && !self->had_turn) {
                self->wants_turn = false;
                self->had_turn = true;
                *result = Py_NewRef(Py_None);
                return PYGEN_NEXT;
            }
            if (self->arg != NULL) {
                self->inner = PyObject_CallFunctionObjArgs(self->fallback, self->owner,
                                                           self->arg, NULL);
            }
            else if (self->fallback_on_owner) {
                self->inner = PyObject_CallOneArg(self->fallback, self->owner);
            }
            else {
                self->inner = PyObject_CallNoArgs(self->fallback);
            }
            if (self->inner != NULL) {
                goto forward;
            }
        }
        fast_path_call_finish(self);
        *result = value;
        return value != NULL ? PYGEN_RETURN : PYGEN_ERROR;
    }
forward:;
    PySendResult status = PyIter_Send(self->inner, arg, result);
    if (status != PYGEN_NEXT) {
        fast_path_call_finish(self);
    }
    return status;
}

static PyObject *
fast_path_call_send_method(PyObject *op, PyObject *arg)
{
    PyObject *value;
    switch (fast_path_call_send(op, arg, &value)) {
    case PYGEN_NEXT:
        return value;
    case PYGEN_RETURN:
        set_stop_iteration(value);
        Py_DECREF(value);
        return NULL;
    case PYGEN_ERROR:
        return NULL;
    }
    Py_UNREACHABLE();
}

static PyObject *
fast_path_call_iternext(PyObject *op)
{
    return fast_path_call_send_method(op, Py_None);
}

static PyObject *
fast_path_call_throw(PyObject *op, PyObject *const *args, Py_ssize_t nargs)
{
    FastPathCallObject *self = (FastPathCallObject *)op;
    if (nargs < 1 || nargs > 3) {
        PyErr_SetString(PyExc_TypeError, "throw() takes from 1 to 3 arguments");
        return NULL;
    }
    if (self->inner != NULL) {
        PyObject *inner = Py_NewRef(self->inner);
        PyObject *call_args[4] = {inner, args[0], nargs > 1 ? args[1] : NULL,
                                  nargs > 2 ? args[2] : NULL};
        PyObject *result = PyObject_VectorcallMethod(self->state->str_throw, call_args,
                                                     (size_t)nargs + 1, NULL);
        Py_DECREF(inner);
        if (result == NULL) {
            fast_path_call_finish(self);
        }
        return result;
    }
    /* Not started: the exception is raised where the call would have begun. */
    PyObject *exc = args[0];
    fast_path_call_finish(self);
    if (PyExceptionClass_Check(exc)) {
        PyErr_SetObject(exc, nargs > 1 ? args[1] : NULL);
    }
    else if (PyExceptionInstance_Check(exc)) {
        PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
    }
    else {
        PyErr_SetString(PyExc_TypeError,
                        "exceptions must be classes or instances deriving from "
                        "BaseException");
    }
    return NULL;
}

static PyObject *
fast_path_call_close(PyObject *op, PyObject *Py_UNUSED(ignored))
{
    FastPathCallObject *self = (FastPathCallObject *)op;
    PyObject *inner = self->inner != NULL ? Py_NewRef(self->inner) : NULL;
    fast_path_call_finish(self);
    if (inner == NULL) {
        Py_RETURN_NONE;
    }
    PyObject *result = PyObject_CallMethodNoArgs(inner, self->state->str_close);
    Py_DECREF(inner);
    return result;
}

static PyObject *
fast_path_call_await(PyObject *op)
{
    return Py_NewRef(op);
}

static int
fast_path_call_traverse(PyObject *op, visitproc visit, void *arg)
{
    FastPathCallObject *self = (FastPathCallObject *)op;
    Py_VISIT(Py_TYPE(op));
    Py_VISIT(self->fast_data);
    Py_VISIT(self->owner);
    Py_VISIT(self->arg);
    Py_VISIT(self->fallback);
    Py_VISIT(self->inner);
    return 0;
}

static int
fast_path_call_clear(PyObject *op)
{
    fast_path_call_finish((FastPathCallObject *)op);
    return 0;
}

static void
fast_path_call_dealloc(PyObject *op)
{
    PyTypeObject *type = Py_TYPE(op);
    PyObject_GC_UnTrack(op);
    (void)fast_path_call_clear(op);
    PyObject_GC_Del(op);
    Py_DECREF(type);
}

static PyMethodDef fast_path_call_methods[] = {
    {"send", fast_path_call_send_method, METH_O, "Step the call, as coroutine.send() does."},
    {"throw", (PyCFunction)(void (*)(void))fast_path_call_throw, METH_FASTCALL,
     "Raise the exception in the call, as coroutine.throw() does."},
    {"close", fast_path_call_close, METH_NOARGS, "Stop the call, as coroutine.close() does."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot fast_path_call_slots[] = {
    {Py_tp_dealloc, fast_path_call_dealloc},
    {Py_tp_traverse, fast_path_call_traverse},
    {Py_tp_clear, fast_path_call_clear},
    {Py_am_await, fast_path_call_await},
    {Py_am_send, fast_path_call_send},
    {Py_tp_iter, PyObject_SelfIter},
    {Py_tp_iternext, fast_path_call_iternext},
    {Py_tp_methods, fast_path_call_methods},
    {Py_tp_doc,
     (void *)PyDoc_STR("A coroutine method's call whose common case completes in C.")},
    {0, NULL},
};

static PyType_Spec fast_path_call_spec = {
    .name = "asyncfile._speedups.FastPathCall",
    .basicsize = sizeof(FastPathCallObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_IMMUTABLETYPE |
             Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = fast_path_call_slots,
};

/* ---------------------------------------------------------------------------
 * RawFileBase: the raw layer's hot state, declared.
 *
 * AsyncFileIO derives from it, so the fields every fast path reads and moves
 * (the descriptor, the position, whether the file is open and readable, its
 * lock, the core's cached reader) are these members rather than entries of
 * the instance's __dict__ found by name: a renamed field is a compile error
 * here.  The Python classes keep a __dict__, where a renamed attribute would
 * land unseen: tests/test_file_declared_fields.py checks that they use the
 * declared names, and that the fast paths fire.  Without this module,
 * io._raw.PyRawFileBase (__slots__ of the same names) stands in, as
 * Lib/_pyio.py does for _io.
 */

typedef struct {
    PyObject_HEAD
    PyObject *position;      /* _position: an int; None for an unseekable file */
    PyObject *size_hint;     /* _size_hint: the size the opener saw, or None */
    PyObject *lock;          /* _lock: the TaskLock of the whole file */
    PyObject *cached_reader; /* _cached_reader: the core's read_cached, or None */
    int fd;                  /* _fd: -1 until a descriptor is given */
    char closed;             /* _closed */
    char readable;           /* _readable */
} RawFileObject;

static PyMemberDef raw_file_members[] = {
    {"_fd", T_INT, offsetof(RawFileObject, fd), 0, NULL},
    {"_position", T_OBJECT, offsetof(RawFileObject, position), 0, NULL},
    {"_size_hint", T_OBJECT, offsetof(RawFileObject, size_hint), 0, NULL},
    {"_lock", T_OBJECT_EX, offsetof(RawFileObject, lock), 0, NULL},
    {"_cached_reader", T_OBJECT, offsetof(RawFileObject, cached_reader), 0, NULL},
    {"_closed", T_BOOL, offsetof(RawFileObject, closed), 0, NULL},
    {"_readable", T_BOOL, offsetof(RawFileObject, readable), 0, NULL},
    {NULL, 0, 0, 0, NULL},
};

static PyObject *
raw_file_new(PyTypeObject *type, PyObject *Py_UNUSED(args), PyObject *Py_UNUSED(kwargs))
{
    RawFileObject *self = (RawFileObject *)type->tp_alloc(type, 0);
    if (self != NULL) {
        self->fd = -1;
    }
    return (PyObject *)self;
}

static int
raw_file_traverse(PyObject *op, visitproc visit, void *arg)
{
    RawFileObject *self = (RawFileObject *)op;
    Py_VISIT(Py_TYPE(op));
    Py_VISIT(self->position);
    Py_VISIT(self->size_hint);
    Py_VISIT(self->lock);
    Py_VISIT(self->cached_reader);
    return 0;
}

static int
raw_file_clear(PyObject *op)
{
    RawFileObject *self = (RawFileObject *)op;
    Py_CLEAR(self->position);
    Py_CLEAR(self->size_hint);
    Py_CLEAR(self->lock);
    Py_CLEAR(self->cached_reader);
    return 0;
}

static void
raw_file_dealloc(PyObject *op)
{
    PyTypeObject *type = Py_TYPE(op);
    PyObject_GC_UnTrack(op);
    (void)raw_file_clear(op);
    type->tp_free(op);
    Py_DECREF(type);
}

PyDoc_STRVAR(raw_file__doc__,
"RawFileBase()\n--\n\n"
"The state of an asyncfile raw file that its fast paths read and move:\n"
"_fd, _position, _size_hint, _lock, _cached_reader, _closed, _readable.");

static PyType_Slot raw_file_slots[] = {
    {Py_tp_new, raw_file_new},
    {Py_tp_dealloc, raw_file_dealloc},
    {Py_tp_traverse, raw_file_traverse},
    {Py_tp_clear, raw_file_clear},
    {Py_tp_members, raw_file_members},
    {Py_tp_doc, (void *)raw_file__doc__},
    {0, NULL},
};

static PyType_Spec raw_file_spec = {
    .name = "asyncfile._speedups.RawFileBase",
    .basicsize = sizeof(RawFileObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_BASETYPE |
             Py_TPFLAGS_IMMUTABLETYPE,
    .slots = raw_file_slots,
};

/* `obj` as a raw file, or NULL (without an error) if it is not one. */
static RawFileObject *
as_raw_file(speedups_state *st, PyObject *obj)
{
    return PyObject_TypeCheck(obj, st->raw_file_type) ? (RawFileObject *)obj : NULL;
}

/* ---------------------------------------------------------------------------
 * BufferedFileBase: the buffered layer's hot state, declared.
 *
 * io._buffered._BufferedBase derives from it, as AsyncFileIO from RawFileBase:
 * the raw file under the buffer, the buffer, and the bookkeeping a read
 * served from it moves.  io._buffered.PyBufferedFileBase is its twin.
 */

typedef struct {
    PyObject_HEAD
    PyObject *raw;           /* _raw: the raw file; None once detached */
    PyObject *buf;           /* _buf: the bytearray buffer; None once closed */
    Py_ssize_t buffer_size;  /* buffer_size */
    Py_ssize_t pos;          /* _pos: the position in the buffer */
    Py_ssize_t read_end;     /* _read_end: the end of the bytes read; -1: none */
} BufferedFileObject;

static PyMemberDef buffered_file_members[] = {
    {"_raw", T_OBJECT, offsetof(BufferedFileObject, raw), 0, NULL},
    {"_buf", T_OBJECT, offsetof(BufferedFileObject, buf), 0, NULL},
    {"buffer_size", T_PYSSIZET, offsetof(BufferedFileObject, buffer_size), 0, NULL},
    {"_pos", T_PYSSIZET, offsetof(BufferedFileObject, pos), 0, NULL},
    {"_read_end", T_PYSSIZET, offsetof(BufferedFileObject, read_end), 0, NULL},
    {NULL, 0, 0, 0, NULL},
};

static PyObject *
buffered_file_new(PyTypeObject *type, PyObject *Py_UNUSED(args),
                  PyObject *Py_UNUSED(kwargs))
{
    BufferedFileObject *self = (BufferedFileObject *)type->tp_alloc(type, 0);
    if (self != NULL) {
        self->read_end = -1;
    }
    return (PyObject *)self;
}

static int
buffered_file_traverse(PyObject *op, visitproc visit, void *arg)
{
    BufferedFileObject *self = (BufferedFileObject *)op;
    Py_VISIT(Py_TYPE(op));
    Py_VISIT(self->raw);
    Py_VISIT(self->buf);
    return 0;
}

static int
buffered_file_clear(PyObject *op)
{
    BufferedFileObject *self = (BufferedFileObject *)op;
    Py_CLEAR(self->raw);
    Py_CLEAR(self->buf);
    return 0;
}

static void
buffered_file_dealloc(PyObject *op)
{
    PyTypeObject *type = Py_TYPE(op);
    PyObject_GC_UnTrack(op);
    (void)buffered_file_clear(op);
    type->tp_free(op);
    Py_DECREF(type);
}

PyDoc_STRVAR(buffered_file__doc__,
"BufferedFileBase()\n--\n\n"
"The state of an asyncfile buffered file that its fast paths read and move:\n"
"_raw, _buf, buffer_size, _pos, _read_end.");

static PyType_Slot buffered_file_slots[] = {
    {Py_tp_new, buffered_file_new},
    {Py_tp_dealloc, buffered_file_dealloc},
    {Py_tp_traverse, buffered_file_traverse},
    {Py_tp_clear, buffered_file_clear},
    {Py_tp_members, buffered_file_members},
    {Py_tp_doc, (void *)buffered_file__doc__},
    {0, NULL},
};

static PyType_Spec buffered_file_spec = {
    .name = "asyncfile._speedups.BufferedFileBase",
    .basicsize = sizeof(BufferedFileObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_BASETYPE |
             Py_TPFLAGS_IMMUTABLETYPE,
    .slots = buffered_file_slots,
};

/* `obj` as a buffered file, or NULL (without an error) if it is not one. */
static BufferedFileObject *
as_buffered_file(speedups_state *st, PyObject *obj)
{
    return PyObject_TypeCheck(obj, st->buffered_file_type) ? (BufferedFileObject *)obj
                                                           : NULL;
}

/* The raw file under the buffered file `obj` (borrowed), or NULL (without an
 * error) if `obj` is no buffered file or is detached. */
static PyObject *
raw_under(speedups_state *st, PyObject *obj)
{
    BufferedFileObject *buffered = as_buffered_file(st, obj);
    if (buffered == NULL || buffered->raw == NULL || buffered->raw == Py_None) {
        return NULL;
    }
    return buffered->raw;
}

/* ---------------------------------------------------------------------------
 * TextFileBase: the text layer's hot state, declared.
 *
 * io._text.TextIOWrapper derives from it: what a line taken from the decoded
 * text and a plain write read and move.  io._text.PyTextFileBase is its twin.
 */

typedef struct {
    PyObject_HEAD
    PyObject *buffer;              /* _buffer: the buffered file; None once detached */
    PyObject *pending;             /* _pending: encoded text not yet in the buffer */
    PyObject *decoded_chars;       /* _decoded_chars: decoded text (str), or None */
    PyObject *plain_readnl;        /* _plain_readnl: "\n" if lines end there alone */
    PyObject *plain_writes;        /* _plain_writes: a _PlainWrites, or None */
    Py_ssize_t decoded_chars_used; /* _decoded_chars_used */
    char telling;                  /* _telling */
} TextFileObject;

static PyMemberDef text_file_members[] = {
    {"_buffer", T_OBJECT, offsetof(TextFileObject, buffer), 0, NULL},
    {"_pending", T_OBJECT, offsetof(TextFileObject, pending), 0, NULL},
    {"_decoded_chars", T_OBJECT, offsetof(TextFileObject, decoded_chars), 0, NULL},
    {"_plain_readnl", T_OBJECT, offsetof(TextFileObject, plain_readnl), 0, NULL},
    {"_plain_writes", T_OBJECT, offsetof(TextFileObject, plain_writes), 0, NULL},
    {"_decoded_chars_used", T_PYSSIZET, offsetof(TextFileObject, decoded_chars_used), 0,
     NULL},
    {"_telling", T_BOOL, offsetof(TextFileObject, telling), 0, NULL},
    {NULL, 0, 0, 0, NULL},
};

static int
text_file_traverse(PyObject *op, visitproc visit, void *arg)
{
    TextFileObject *self = (TextFileObject *)op;
    Py_VISIT(Py_TYPE(op));
    Py_VISIT(self->buffer);
    Py_VISIT(self->pending);
    Py_VISIT(self->decoded_chars);
    Py_VISIT(self->plain_readnl);
    Py_VISIT(self->plain_writes);
    return 0;
}

static int
text_file_clear(PyObject *op)
{
    TextFileObject *self = (TextFileObject *)op;
    Py_CLEAR(self->buffer);
    Py_CLEAR(self->pending);
    Py_CLEAR(self->decoded_chars);
    Py_CLEAR(self->plain_readnl);
    Py_CLEAR(self->plain_writes);
    return 0;
}

static void
text_file_dealloc(PyObject *op)
{
    PyTypeObject *type = Py_TYPE(op);
    PyObject_GC_UnTrack(op);
    (void)text_file_clear(op);
    type->tp_free(op);
    Py_DECREF(type);
}

PyDoc_STRVAR(text_file__doc__,
"TextFileBase()\n--\n\n"
"The state of an asyncfile text file that its fast paths read and move:\n"
"_buffer, _pending, _decoded_chars, _decoded_chars_used, _plain_readnl,\n"
"_plain_writes, _telling.");

static PyType_Slot text_file_slots[] = {
    {Py_tp_new, PyType_GenericNew},
    {Py_tp_dealloc, text_file_dealloc},
    {Py_tp_traverse, text_file_traverse},
    {Py_tp_clear, text_file_clear},
    {Py_tp_members, text_file_members},
    {Py_tp_doc, (void *)text_file__doc__},
    {0, NULL},
};

static PyType_Spec text_file_spec = {
    .name = "asyncfile._speedups.TextFileBase",
    .basicsize = sizeof(TextFileObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_BASETYPE |
             Py_TPFLAGS_IMMUTABLETYPE,
    .slots = text_file_slots,
};

/* `obj` as a text file, or NULL (without an error) if it is not one. */
static TextFileObject *
as_text_file(speedups_state *st, PyObject *obj)
{
    return PyObject_TypeCheck(obj, st->text_file_type) ? (TextFileObject *)obj : NULL;
}

/* ---------------------------------------------------------------------------
 * TextLines: `async for` over a TextIOWrapper.
 */

typedef struct {
    PyObject_HEAD
    PyObject *text;
    TextFileObject *fields; /* `text`, if it is a TextFileBase; else NULL */
    /* The buffer last seen under the text, and the raw file under it:
     * checked by identity, looked up again when they change. */
    PyObject *buffer;
    PyObject *raw;
    PyObject *anext;    /* text.__anext__, for every line not served here */
    PyObject *last_call; /* the last call handed out, reused once let go */
    speedups_state *state;
} TextLinesObject;

/* Remember the text's buffer and the buffer's raw file; 0 if the text has
 * no buffered file of asyncfile's under it, or it is detached. */
static int
text_lines_follow(TextLinesObject *self, PyObject *buffer)
{
    Py_CLEAR(self->buffer);
    Py_CLEAR(self->raw);
    PyObject *raw = buffer != NULL ? raw_under(self->state, buffer) : NULL;
    if (raw == NULL) {
        return 0;
    }
    self->buffer = Py_NewRef(buffer);
    self->raw = Py_NewRef(raw);
    return 1;
}

/* Where `type` keeps `_owner`: TaskLock's is a __slots__ member, whose
 * descriptor, found once per type, spares a by-name lookup per call (a
 * hundred and more instructions on every write and line).  The descriptor is
 * called through its type's tp_descr_get, never read into: its layout is
 * CPython's own. */
static void
learn_lock_type(speedups_state *st, PyTypeObject *type)
{
    PyObject *descr = PyObject_GetAttr((PyObject *)type, st->str_owner);
    if (descr == NULL) {
        PyErr_Clear();
    }
    else if (!Py_IS_TYPE(descr, &PyMemberDescr_Type)) {
        Py_CLEAR(descr);
    }
    Py_XSETREF(st->lock_type, (PyTypeObject *)Py_NewRef(type));
    Py_XSETREF(st->lock_owner_slot, descr);
}

/* 1 if no task holds or waits for `lock` (its _owner is None), 0 if one
 * does, -1 on error. */
static int
lock_is_free(speedups_state *st, PyObject *lock)
{
    if (Py_TYPE(lock) != st->lock_type) {
        learn_lock_type(st, Py_TYPE(lock));
    }
    PyObject *owner;
    if (st->lock_owner_slot != NULL) {
        PyObject *slot = st->lock_owner_slot;
        owner = Py_TYPE(slot)->tp_descr_get(slot, lock, (PyObject *)Py_TYPE(lock));
        if (owner == NULL) { /* unset: the Python call finds out */
            PyErr_Clear();
            return 0;
        }
    }
    else {
        owner = PyObject_GetAttr(lock, st->str_owner);
        if (owner == NULL) {
            return -1;
        }
    }
    Py_DECREF(owner);
    return owner == Py_None;
}

/* 1 if a call on the file whose raw layer is `obj` may skip the file's lock
 * (the one lock its raw, buffered and text layers share), 0 if not (or if
 * `obj` is no raw file), -1 on error.  AsyncFileIO._undisturbed's rule, read
 * from the same fields: no call holds or waits for the lock, and the file is
 * open. */
static int
raw_undisturbed(speedups_state *st, PyObject *obj)
{
    RawFileObject *raw = as_raw_file(st, obj);
    if (raw == NULL || raw->closed || raw->lock == NULL) {
        return 0;
    }
    PyObject *lock = Py_NewRef(raw->lock);
    int free = lock_is_free(st, lock);
    Py_DECREF(lock);
    return free;
}

/* 1 if a line may be taken without the lock: no call holds or waits for the
 * file, no text waits to be written, and the file is open and attached (the
 * conditions of TextIOWrapper._undisturbed); 0 if not; -1 on error. */
static int
text_undisturbed(TextLinesObject *self)
{
    speedups_state *st = self->state;
    PyObject *pending = self->fields->pending;
    if (pending == NULL || !PyByteArray_CheckExact(pending) ||
        PyByteArray_GET_SIZE(pending)) {
        return 0;
    }
    PyObject *buffer = self->fields->buffer;
    if (buffer != self->buffer && !text_lines_follow(self, buffer)) {
        return 0;
    }
    if (raw_under(st, buffer) != self->raw) {
        /* Detached, or another raw file attached: look again next time. */
        Py_CLEAR(self->buffer);
        return 0;
    }
    return raw_undisturbed(st, self->raw);
}

/* The next "\n"-ended line of the decoded text, taken as _decoded_line takes
 * it; NULL without an error when it must come from __anext__ instead. */
static PyObject *
text_take_decoded_line(TextLinesObject *self)
{
    TextFileObject *text = self->fields;
    if (text == NULL) {
        return NULL; /* not asyncfile's text file: its own __anext__ serves */
    }
    PyObject *newline = text->plain_readnl;
    if (newline == NULL || !PyUnicode_Check(newline) ||
        PyUnicode_GET_LENGTH(newline) != 1 || PyUnicode_READ_CHAR(newline, 0) != '\n') {
        return NULL; /* other line endings: the file's own code finds them */
    }
    PyObject *chars = text->decoded_chars;
    if (chars == NULL || !PyUnicode_CheckExact(chars)) {
        return NULL;
    }
    Py_ssize_t used = text->decoded_chars_used;
    Py_ssize_t length = PyUnicode_GET_LENGTH(chars);
    if (used < 0 || used >= length) {
        return NULL;
    }
    Py_ssize_t found = PyUnicode_FindChar(chars, '\n', used, length, 1);
    if (found < 0) {
        return NULL; /* -1: no whole line; -2: an error is set */
    }
    int undisturbed = text_undisturbed(self);
    if (undisturbed <= 0) {
        return NULL;
    }
    PyObject *line = PyUnicode_Substring(chars, used, found + 1);
    if (line == NULL) {
        return NULL;
    }
    text->decoded_chars_used = found + 1;
    text->telling = 0; /* as io's next() does */
    return line;
}

static PyObject *
text_lines_take(FastPathCallObject *call)
{
    return text_take_decoded_line((TextLinesObject *)call->owner);
}

static PyObject *
text_lines_anext(PyObject *op)
{
    TextLinesObject *self = (TextLinesObject *)op;
    return fast_path_call_new(&self->last_call, self->state, text_lines_take, NULL, op,
                             NULL, self->anext);
}

static PyObject *
text_lines_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    PyObject *text;
    if (kwargs != NULL && PyDict_GET_SIZE(kwargs) != 0) {
        PyErr_SetString(PyExc_TypeError, "TextLines() takes no keyword arguments");
        return NULL;
    }
    if (!PyArg_UnpackTuple(args, "TextLines", 1, 1, &text)) {
        return NULL;
    }
    speedups_state *st = PyType_GetModuleState(type);
    TextLinesObject *self = (TextLinesObject *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    self->state = st;
    self->text = Py_NewRef(text);
    self->anext = PyObject_GetAttr(text, st->str_anext);
    if (self->anext == NULL) {
        Py_DECREF(self);
        return NULL;
    }
    self->fields = as_text_file(st, text);
    return (PyObject *)self;
}

static int
text_lines_traverse(PyObject *op, visitproc visit, void *arg)
{
    TextLinesObject *self = (TextLinesObject *)op;
    Py_VISIT(Py_TYPE(op));
    Py_VISIT(self->text);
    Py_VISIT(self->buffer);
    Py_VISIT(self->raw);
    Py_VISIT(self->anext);
    Py_VISIT(self->last_call);
    return 0;
}

static int
text_lines_clear(PyObject *op)
{
    TextLinesObject *self = (TextLinesObject *)op;
    Py_CLEAR(self->text);
    Py_CLEAR(self->buffer);
    Py_CLEAR(self->raw);
    Py_CLEAR(self->anext);
    Py_CLEAR(self->last_call);
    return 0;
}

static void
text_lines_dealloc(PyObject *op)
{
    PyTypeObject *type = Py_TYPE(op);
    PyObject_GC_UnTrack(op);
    (void)text_lines_clear(op);
    type->tp_free(op);
    Py_DECREF(type);
}

PyDoc_STRVAR(text_lines__doc__,
"TextLines(text, /)\n--\n\n"
"The lines of an asyncfile TextIOWrapper for `async for`: each is what\n"
"`await text.__anext__()` returns, and the iterator can go on after the end\n"
"of the file, as io's can.");

static PyType_Slot text_lines_slots[] = {
    {Py_tp_new, text_lines_new},
    {Py_tp_dealloc, text_lines_dealloc},
    {Py_tp_traverse, text_lines_traverse},
    {Py_tp_clear, text_lines_clear},
    {Py_am_aiter, PyObject_SelfIter},
    {Py_am_anext, text_lines_anext},
    {Py_tp_doc, (void *)text_lines__doc__},
    {0, NULL},
};

static PyType_Spec text_lines_spec = {
    .name = "asyncfile._speedups.TextLines",
    .basicsize = sizeof(TextLinesObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_IMMUTABLETYPE,
    .slots = text_lines_slots,
};

/* ---------------------------------------------------------------------------
 * TextIOWrapper.write's plain case.
 */

/* raw_undisturbed for the raw file `buffer` is attached to; 0 if it is
 * detached. */
static int
buffer_undisturbed(speedups_state *st, PyObject *buffer)
{
    PyObject *raw = raw_under(st, buffer);
    return raw != NULL ? raw_undisturbed(st, raw) : 0;
}

/* Appending in place, within a bytearray's allocation, reads and writes its
 * fields (ob_alloc, ob_bytes, ob_start, ob_exports) as CPython 3.10 to 3.14
 * lay them out and use them, which tests/test_python_versions.py checks on
 * each; a later CPython grows the bytearray through PyByteArray_Resize. */
#if PY_VERSION_HEX < 0x030F0000
#define APPEND_IN_PLACE 1
#else
#define APPEND_IN_PLACE 0
#endif

/* Append `length` bytes at `data` to the bytearray `pending`; -1 on error.
 * Growing by PyByteArray_Resize reallocates every few appends (it grows by
 * an eighth, and the pending bytes are cleared every `reserve` bytes), so
 * the first append after a clear reserves `reserve` bytes at once and the
 * next ones only copy, as bytearray's own resize does when there is room. */
static int
pending_append(PyObject *pending, const char *data, Py_ssize_t length,
               Py_ssize_t reserve)
{
    Py_ssize_t size = PyByteArray_GET_SIZE(pending);
    Py_ssize_t needed = size + length;
#if APPEND_IN_PLACE
    PyByteArrayObject *array = (PyByteArrayObject *)pending;
    bool room = array->ob_exports == 0 && array->ob_start == array->ob_bytes &&
                needed < array->ob_alloc;
    if (!room) {
        if (PyByteArray_Resize(pending, Py_MAX(needed, reserve)) < 0) {
            return -1;
        }
    }
    memcpy(array->ob_start + size, data, (size_t)length);
    Py_SET_SIZE(array, needed);
    array->ob_start[needed] = '\0';
#else
    (void)reserve;
    if (PyByteArray_Resize(pending, needed) < 0) {
        return -1;
    }
    memcpy(PyByteArray_AS_STRING(pending) + size, data, (size_t)length);
#endif
    return 0;
}

/* `s` encoded with `encoding`: its bytes at `*data`, `*nbytes` of them, and
 * what owns them in `*owner` (NULL when `s` does: ASCII text is its own
 * encoding in each of the plain codecs, UTF-8, Latin-1 and ASCII); -1 on
 * error. */
static int
encode_plainly(PyObject *s, PyObject *encoding, PyObject *errors, const char **data,
               Py_ssize_t *nbytes, PyObject **owner)
{
    *owner = NULL;
    if (PyUnicode_IS_ASCII(s)) {
        *data = PyUnicode_DATA(s);
        *nbytes = PyUnicode_GET_LENGTH(s);
        return 0;
    }
    const char *encoding_name = PyUnicode_AsUTF8(encoding);
    const char *errors_name = encoding_name ? PyUnicode_AsUTF8(errors) : NULL;
    PyObject *encoded =
        errors_name ? PyUnicode_AsEncodedString(s, encoding_name, errors_name) : NULL;
    if (encoded == NULL) {
        return -1;
    }
    *data = PyBytes_AS_STRING(encoded);
    *nbytes = PyBytes_GET_SIZE(encoded);
    *owner = encoded;
    return 0;
}

/* Whether `pending` may be emptied at once: no view of it is held. */
static bool
pending_can_clear(PyObject *pending)
{
#if APPEND_IN_PLACE
    return ((PyByteArrayObject *)pending)->ob_exports == 0;
#else
    (void)pending;
    return true;
#endif
}

/* Hand the pending bytes and the `nbytes` at `data` after them to the
 * buffer as one write, through its `write_at_once` (the buffer's write when
 * it completes at once), and empty `pending` if the buffer took them, as
 * TextIOWrapper._write_encoded then does: 1 if it did, 0 if the Python write
 * must run (nothing changed), -1 on error. */
static int
pending_hand_on(PyObject *pending, const char *data, Py_ssize_t nbytes,
                PyObject *write_at_once)
{
    if (!pending_can_clear(pending)) {
        return 0;
    }
    Py_ssize_t size = PyByteArray_GET_SIZE(pending);
    PyObject *joined = PyBytes_FromStringAndSize(NULL, size + nbytes);
    if (joined == NULL) {
        return -1;
    }
    memcpy(PyBytes_AS_STRING(joined), PyByteArray_AS_STRING(pending), (size_t)size);
    memcpy(PyBytes_AS_STRING(joined) + size, data, (size_t)nbytes);
    PyObject *taken = PyObject_CallOneArg(write_at_once, joined);
    Py_DECREF(joined);
    if (taken == NULL) {
        return -1;
    }
    bool took = taken != Py_None;
    Py_DECREF(taken);
    if (!took) {
        return 0;
    }
    return PyByteArray_Resize(pending, 0) < 0 ? -1 : 1;
}

/* TextIOWrapper._plain_writes (a _PlainWrites tuple), by position. */
enum {
    PLAIN_ENCODING,
    PLAIN_ERRORS,
    PLAIN_PENDING,
    PLAIN_LIMIT,
    PLAIN_BUFFER,
    PLAIN_WRITE_AT_ONCE,
    PLAIN_FIELDS
};

/* What TextIOWrapper.write does when _plain_writes is set and the text fits
 * the pending bytes, or makes them due and the buffer takes them without a
 * flush: the length written, or NULL without an error when the Python write
 * must run (which also raises any error, when awaited). */
static PyObject *
text_write_plainly(speedups_state *st, PyObject *text, PyObject *s)
{
    if (!PyUnicode_CheckExact(s)) {
        return NULL;
    }
    TextFileObject *fields = as_text_file(st, text);
    PyObject *plain = fields != NULL ? fields->plain_writes : NULL;
    if (plain == NULL || !PyTuple_Check(plain) || PyTuple_GET_SIZE(plain) != PLAIN_FIELDS) {
        return NULL;
    }
    Py_INCREF(plain); /* Python code may replace it: buffer_undisturbed, the buffer */
    PyObject *result = NULL;
    PyObject *encoding = PyTuple_GET_ITEM(plain, PLAIN_ENCODING);
    PyObject *errors = PyTuple_GET_ITEM(plain, PLAIN_ERRORS);
    PyObject *pending = PyTuple_GET_ITEM(plain, PLAIN_PENDING);
    PyObject *limit = PyTuple_GET_ITEM(plain, PLAIN_LIMIT);
    PyObject *write_at_once = PyTuple_GET_ITEM(plain, PLAIN_WRITE_AT_ONCE);
    if (!PyUnicode_Check(encoding) || !PyUnicode_Check(errors) ||
        !PyByteArray_CheckExact(pending) || !PyLong_CheckExact(limit) ||
        buffer_undisturbed(st, PyTuple_GET_ITEM(plain, PLAIN_BUFFER)) != 1) {
        goto done;
    }
    Py_ssize_t length = PyUnicode_GET_LENGTH(s);
    Py_ssize_t most = PyLong_AsSsize_t(limit);
    if (most < 0 || length >= most) {
        goto done; /* at least a byte a character: large text goes on its own */
    }
    const char *data;
    Py_ssize_t nbytes;
    PyObject *owner;
    if (encode_plainly(s, encoding, errors, &data, &nbytes, &owner) < 0) {
        goto done;
    }
    int status = 0;
    if (PyByteArray_GET_SIZE(pending) + nbytes < most) {
        /* A chunk size set absurdly high must not make every write fail to
         * allocate: reserving stops at a mebibyte. */
        Py_ssize_t reserve = Py_MIN(most, (Py_ssize_t)1 << 20);
        status = pending_append(pending, data, nbytes, reserve) < 0 ? -1 : 1;
    }
    else if (nbytes < most && write_at_once != Py_None) {
        status = pending_hand_on(pending, data, nbytes, write_at_once);
    }
    Py_XDECREF(owner);
    if (status == 1) {
        result = PyLong_FromSsize_t(length);
    }
done:
    if (result == NULL) {
        PyErr_Clear(); /* the Python write meets the same error, when awaited */
    }
    Py_DECREF(plain);
    return result;
}

PyDoc_STRVAR(write_plainly__doc__,
"write_plainly(text, s, /)\n--\n\n"
"TextIOWrapper.write's plain case (a stateless codec, nothing to translate,\n"
"the text fits the pending bytes or the buffer takes them with it, no other\n"
"call in progress), done at once:\n"
"the length written, or None when the Python write must run.");

static PyObject *
write_plainly(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "write_plainly() takes 2 arguments");
        return NULL;
    }
    PyObject *count = text_write_plainly(get_state(module), args[0], args[1]);
    return count != NULL ? count : Py_NewRef(Py_None);
}

/* ---------------------------------------------------------------------------
 * BufferedReader.read's common cases (BufferedReader._read_at_once, in C).
 */

/* Learn whether `type` reads and writes (its _reads and _writes class
 * flags): once per type, not two lookups per read.  -1 on error. */
static int
learn_buffered_type(speedups_state *st, PyTypeObject *type)
{
    PyObject *names[2] = {st->str_reads, st->str_writes};
    int flags[2];
    for (int i = 0; i < 2; i++) {
        PyObject *flag = PyObject_GetAttr((PyObject *)type, names[i]);
        if (flag == NULL) {
            return -1;
        }
        flags[i] = PyObject_IsTrue(flag);
        Py_DECREF(flag);
        if (flags[i] < 0) {
            return -1;
        }
    }
    Py_XSETREF(st->buffered_type, (PyTypeObject *)Py_NewRef(type));
    st->buffered_reads = flags[0];
    st->buffered_writes = flags[1];
    return 0;
}

/* `item` into `*value`: 1 if it is an int that fits a Py_ssize_t, 0 if it
 * is NULL or anything else (no error set either way). */
static int
exact_ssize(PyObject *item, Py_ssize_t *value)
{
    if (item == NULL || !PyLong_CheckExact(item)) {
        return 0;
    }
    *value = PyLong_AsSsize_t(item);
    if (*value == -1 && PyErr_Occurred()) {
        PyErr_Clear();
        return 0;
    }
    return 1;
}

/* What the raw file `raw` would read at its position (which moves past them),
 * `size` bytes at most, if the page cache has them and the core's cached
 * reader may take them now; NULL without an error when the read must be
 * awaited. */
static PyObject *
raw_read_cached(RawFileObject *raw, PyObject *size)
{
    PyObject *reader = raw->cached_reader;
    Py_ssize_t offset;
    if (reader == NULL || reader == Py_None || raw->closed || !raw->readable ||
        raw->fd < 0 || !exact_ssize(raw->position, &offset)) {
        return NULL;
    }
    PyObject *fd = PyLong_FromLong(raw->fd);
    if (fd == NULL) {
        return NULL;
    }
    /* The core's reader runs no Python code, but what it is handed is held
     * all the same. */
    PyObject *position = Py_NewRef(raw->position);
    PyObject *args[4] = {NULL, Py_NewRef(size), fd, position};
    Py_INCREF(reader);
    PyObject *data = PyObject_Vectorcall(reader, args + 1,
                                         3 | PY_VECTORCALL_ARGUMENTS_OFFSET, NULL);
    Py_DECREF(reader);
    Py_DECREF(args[1]);
    Py_DECREF(fd);
    Py_DECREF(position);
    if (data == NULL) {
        return NULL; /* the read failed: that is read()'s error */
    }
    if (!PyBytes_CheckExact(data)) {
        /* None, or False (after a loop turn): read()'s await takes both. */
        Py_DECREF(data);
        return NULL;
    }
    PyObject *moved = PyLong_FromSsize_t(offset + PyBytes_GET_SIZE(data));
    if (moved == NULL) {
        Py_DECREF(data);
        return NULL;
    }
    Py_XSETREF(raw->position, moved);
    return data;
}

/* What the raw file `raw` would read from its position to the end of the
 * file, if it knows where the end is (the size its opener saw, which serves
 * once, as readall() takes it) and the page cache has the bytes now.  It
 * reads exactly as many bytes as the size says remain, then one past them,
 * as readall() would, to see that the file has not grown: asked in one read,
 * a byte past the last cached page can make RWF_NOWAIT refuse the whole read
 * (EAGAIN, seen on ext4 for cached files that a read of their exact size
 * gets at once; the kernel's read-ahead mark on that page is the likely
 * cause).  `*at_end`: the bytes are all
 * readall() returns; if not, the file changed size (or the second read could
 * not be answered at once), and they are only the first of them.  NULL
 * without an error when the read must be awaited. */
static PyObject *
raw_read_all_cached(RawFileObject *raw, bool *at_end)
{
    Py_ssize_t size, position;
    if (!exact_ssize(raw->size_hint, &size) || !exact_ssize(raw->position, &position) ||
        position > size) {
        return NULL;
    }
    PyObject *data;
    if (size == position) {
        /* Nothing to read: the read past the end below says whether it grew
         * (and the portable core's mincore() cannot answer a read of 0). */
        data = PyBytes_FromStringAndSize(NULL, 0);
    }
    else {
        PyObject *count = PyLong_FromSsize_t(size - position);
        data = count != NULL ? raw_read_cached(raw, count) : NULL;
        Py_XDECREF(count);
    }
    if (data == NULL) {
        return NULL;
    }
    Py_XSETREF(raw->size_hint, Py_NewRef(Py_None));
    *at_end = false;
    if (PyBytes_GET_SIZE(data) != size - position) {
        return data; /* shorter: read() goes on, and finds the end */
    }
    PyObject *one = PyLong_FromLong(1);
    PyObject *more = one != NULL ? raw_read_cached(raw, one) : NULL;
    Py_XDECREF(one);
    if (more == NULL) {
        /* Unanswered (or failed, which read() meets again): read() goes on
         * from these bytes, which are read and must not be lost; with none
         * read, read() runs as if nothing had been tried. */
        PyErr_Clear();
        if (PyBytes_GET_SIZE(data) == 0) {
            Py_DECREF(data);
            return NULL;
        }
        return data;
    }
    *at_end = PyBytes_GET_SIZE(more) == 0;
    if (!*at_end) {
        PyBytes_Concat(&data, more); /* it grew: both are the first bytes */
    }
    Py_DECREF(more);
    return data;
}

/* BufferedReader.read() to the end of the file with nothing buffered, done at
 * once (raw_read_all_cached).  Where the file changed size since it was
 * opened, the bytes read become the read-ahead and the Python read() goes
 * on from them: NULL without an error then, as when the read must be
 * awaited. */
static PyObject *
buffered_read_all_cached(speedups_state *st, BufferedFileObject *self, RawFileObject *raw)
{
    bool at_end = false;
    PyObject *data = raw_read_all_cached(raw, &at_end);
    if (data == NULL) {
        return NULL;
    }
    self->read_end = -1;
    if (at_end) {
        return data;
    }
    PyObject *installed =
        PyObject_CallMethodOneArg((PyObject *)self, st->str_install, data);
    Py_DECREF(data);
    Py_XDECREF(installed);
    return NULL;
}

/* What BufferedReader.read(size) returns when it needs nothing awaited and
 * no other call holds or waits for the file: bytes already buffered, or
 * whole blocks (or the whole rest of the file) the page cache has now.  NULL
 * without an error when the Python read must run; with one, the read
 * failed. */
static PyObject *
buffered_read_at_once(speedups_state *st, PyObject *obj, PyObject *size)
{
    if (!PyLong_CheckExact(size) && size != Py_None) {
        return NULL;
    }
    /* -1: to the end of the file, as None */
    Py_ssize_t count = size == Py_None ? -1 : PyLong_AsSsize_t(size);
    if ((count <= 0 && count != -1) || (count == -1 && PyErr_Occurred())) {
        PyErr_Clear(); /* too big for one read: the Python read says so */
        return NULL;
    }
    BufferedFileObject *self = as_buffered_file(st, obj);
    if (self == NULL) {
        return NULL;
    }
    if (Py_TYPE(obj) != st->buffered_type && learn_buffered_type(st, Py_TYPE(obj)) < 0) {
        PyErr_Clear();
        return NULL;
    }
    RawFileObject *raw = self->raw != NULL ? as_raw_file(st, self->raw) : NULL;
    PyObject *buf = self->buf;
    if (!st->buffered_reads || raw == NULL || buf == NULL ||
        !PyByteArray_CheckExact(buf) || self->buffer_size <= 0) {
        return NULL;
    }
    int undisturbed = raw_undisturbed(st, (PyObject *)raw);
    if (undisturbed != 1) {
        PyErr_Clear(); /* the Python read meets it, when awaited */
        return NULL;
    }
    /* Held: the cached reader runs no Python code, but _install does. */
    Py_INCREF(raw);
    Py_INCREF(buf);
    PyObject *result = NULL;
    Py_ssize_t read_end = self->read_end, pos = self->pos;
    Py_ssize_t ahead = read_end != -1 ? read_end - pos : 0;
    if (count == -1) {
        if (ahead == 0 && !st->buffered_writes) {
            result = buffered_read_all_cached(st, self, raw);
        }
        goto release;
    }
    if (count <= ahead) {
        if (pos >= 0 && read_end <= PyByteArray_GET_SIZE(buf)) {
            result = PyBytes_FromStringAndSize(PyByteArray_AS_STRING(buf) + pos, count);
            if (result != NULL) {
                self->pos = pos + count;
            }
        }
        goto release;
    }
    if (ahead != 0 || st->buffered_writes || count % self->buffer_size != 0) {
        goto release;
    }
    result = raw_read_cached(raw, size);
    if (result == NULL) {
        goto release;
    }
    self->read_end = -1;
    Py_ssize_t got = PyBytes_GET_SIZE(result);
    if (got != count && got != 0) {
        /* Short: the bytes are the read-ahead, and read() goes on from them. */
        PyObject *installed = PyObject_CallMethodOneArg(obj, st->str_install, result);
        Py_CLEAR(result);
        Py_XDECREF(installed);
    }
release:
    Py_DECREF(raw);
    Py_DECREF(buf);
    return result;
}

PyDoc_STRVAR(read_at_once__doc__,
"read_at_once(buffered, size, /)\n--\n\n"
"BufferedReader.read(size) done at once when it needs nothing awaited and no\n"
"other call holds or waits for the file (bytes already buffered, or whole\n"
"blocks the page cache has now): the bytes, or None when read() must run.");

static PyObject *
read_at_once(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "read_at_once() takes 2 arguments");
        return NULL;
    }
    PyObject *data = buffered_read_at_once(get_state(module), args[0], args[1]);
    if (data == NULL) {
        return PyErr_Occurred() ? NULL : Py_NewRef(Py_None);
    }
    return data;
}

/* ---------------------------------------------------------------------------
 * BufferedReader.close's common case: a reader that no call holds or waits
 * for, over a raw file that owns its descriptor.  Done in C up to the
 * descriptor's close, which is asyncfile._filesystem.close's (the one way a
 * descriptor is closed, with os.close's errors); the call forwards to it.
 * The twin of the Python close's first branch and AsyncFileIO.close.
 */

/* Find the modules closing asks; -1 on error. */
static int
learn_closing(speedups_state *st)
{
    if (st->filesystem_module != NULL) {
        return 0;
    }
    PyObject *contexts = PyImport_ImportModule("asyncfile.contexts");
    PyObject *loop = contexts != NULL
                         ? PyObject_GetAttrString(contexts, "running_loop_or_none")
                         : NULL;
    Py_XDECREF(contexts);
    PyObject *filesystem = loop != NULL ? PyImport_ImportModule("asyncfile._filesystem")
                                        : NULL;
    if (filesystem == NULL) {
        Py_XDECREF(loop);
        return -1;
    }
    st->filesystem_module = filesystem;
    st->running_loop = loop;
    return 0;
}

/* 1 if `obj` (a raw file) owns its descriptor, with its context in
 * `*context`; 0 if not (nothing set), -1 on error. */
static int
raw_closes_descriptor(speedups_state *st, PyObject *obj, PyObject **context)
{
    PyObject *closefd = PyObject_GetAttr(obj, st->str_closefd);
    if (closefd == NULL) {
        return -1;
    }
    bool owned = closefd == Py_True;
    Py_DECREF(closefd);
    if (!owned) {
        return 0;
    }
    *context = PyObject_GetAttr(obj, st->str_context);
    return *context != NULL ? 1 : -1;
}

/* Start BufferedReader.close() of `obj`: release the buffer, mark the raw
 * file closed, and return the awaitable that closes its descriptor.  NULL
 * without an error when close() must run (a writer, a file some call holds,
 * no running loop, a descriptor not its own); with one, close() failed and
 * nothing changed. */
static PyObject *
buffered_start_close(speedups_state *st, PyObject *obj)
{
    BufferedFileObject *self = as_buffered_file(st, obj);
    if (self == NULL) {
        return NULL;
    }
    if (Py_TYPE(obj) != st->buffered_type && learn_buffered_type(st, Py_TYPE(obj)) < 0) {
        PyErr_Clear();
        return NULL;
    }
    RawFileObject *raw = self->raw != NULL ? as_raw_file(st, self->raw) : NULL;
    if (st->buffered_writes || raw == NULL || raw->fd < 0) {
        return NULL;
    }
    if (raw_undisturbed(st, (PyObject *)raw) != 1 || learn_closing(st) < 0) {
        PyErr_Clear(); /* close() meets it, when awaited */
        return NULL;
    }
    PyObject *loop = PyObject_CallNoArgs(st->running_loop);
    if (loop == NULL || loop == Py_None) {
        Py_XDECREF(loop);
        PyErr_Clear(); /* close() raises asyncfile's error for it */
        return NULL;
    }
    Py_DECREF(loop);
    /* Held: the attribute lookups below may run Python code. */
    Py_INCREF(raw);
    PyObject *closing = NULL, *context = NULL;
    int owned = raw_closes_descriptor(st, (PyObject *)raw, &context);
    if (owned != 1) {
        PyErr_Clear();
        goto release;
    }
    PyObject *fd = PyLong_FromLong(raw->fd);
    PyObject *close = fd != NULL ? PyObject_GetAttr(st->filesystem_module, st->str_close)
                                 : NULL;
    if (close != NULL) {
        PyObject *args[3] = {NULL, fd, context};
        closing = PyObject_Vectorcall(close, args + 1, 1 | PY_VECTORCALL_ARGUMENTS_OFFSET,
                                      st->context_kwnames);
        Py_DECREF(close);
    }
    Py_XDECREF(fd);
    Py_DECREF(context);
    if (closing != NULL) {
        Py_XSETREF(self->buf, Py_NewRef(Py_None));
        self->read_end = self->pos = 0;
        raw->closed = 1;
    }
release:
    Py_DECREF(raw);
    return closing;
}

PyDoc_STRVAR(start_close__doc__,
"start_close(buffered, _, /)\n--\n\n"
"BufferedReader.close()'s common case (a reader no call holds or waits for,\n"
"over a raw file that owns its descriptor): release the buffer, mark the raw\n"
"file closed, and return the awaitable that closes the descriptor; None when\n"
"close() must run.");

static PyObject *
start_close(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "start_close() takes 2 arguments");
        return NULL;
    }
    PyObject *closing = buffered_start_close(get_state(module), args[0]);
    if (closing == NULL) {
        return PyErr_Occurred() ? NULL : Py_NewRef(Py_None);
    }
    return closing;
}

/* ---------------------------------------------------------------------------
 * FastPathMethod: a coroutine method whose common case completes at once.
 *
 * FastPathMethod(method, at_once[, default]) stands for the coroutine method
 * `method(self, arg)`: when a call is first stepped, `at_once(self, arg)` gives
 * its result, or None, and then `method` runs as usual.  A call without the
 * argument stands for one with `default`, if it is given (the method's own
 * default), and goes straight to `method` if not.  A method that takes self
 * alone (close) has `at_once(self, None)` and `method(self)`.  It has no
 * docstring of its own: help(), inspect.getdoc and inspect.signature show the
 * method's.
 */

typedef struct {
    PyObject_HEAD
    PyObject *func;    /* the coroutine method: every case but the common one */
    PyObject *at_once; /* at_once(self, arg): the result, or None if func must run */
    PyObject *default_arg; /* what a call without the argument passes, or NULL */
    bool takes_argument;   /* false: the method takes self alone (close) */
    fast_path_fn fast; /* calls at_once: straight to C for this module's own */
    vectorcallfunc vectorcall;
    PyObject *last_call; /* the last call handed out, reused once let go */
    speedups_state *state;
} FastPathMethodObject;

static PyObject *
fast_path_method_at_once(FastPathCallObject *call)
{
    PyObject *args[2] = {call->owner, call->arg != NULL ? call->arg : Py_None};
    PyObject *value = PyObject_Vectorcall(call->fast_data, args, 2, NULL);
    if (value == Py_None) {
        Py_DECREF(value);
        return NULL;
    }
    return value;
}

static PyObject *
fast_path_method_write_plainly(FastPathCallObject *call)
{
    return text_write_plainly(call->state, call->owner, call->arg);
}

static PyObject *
fast_path_method_read_at_once(FastPathCallObject *call)
{
    return buffered_read_at_once(call->state, call->owner, call->arg);
}

static PyObject *
fast_path_method_start_close(FastPathCallObject *call)
{
    call->inner = buffered_start_close(call->state, call->owner);
    return NULL;
}

/* How a FastPathMethod calls `at_once`: this module's own functions directly. */
static fast_path_fn
fast_path_of(PyObject *at_once)
{
    if (PyCFunction_Check(at_once)) {
        PyCFunction function = PyCFunction_GET_FUNCTION(at_once);
        if (function == (PyCFunction)(void (*)(void))write_plainly) {
            return fast_path_method_write_plainly;
        }
        if (function == (PyCFunction)(void (*)(void))read_at_once) {
            return fast_path_method_read_at_once;
        }
        if (function == (PyCFunction)(void (*)(void))start_close) {
            return fast_path_method_start_close;
        }
    }
    return fast_path_method_at_once;
}

static PyObject *
fast_path_method_vectorcall(PyObject *op, PyObject *const *args, size_t nargsf,
                    PyObject *kwnames)
{
    FastPathMethodObject *self = (FastPathMethodObject *)op;
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    if (nargs == 2 && kwnames == NULL) {
        return fast_path_call_new(&self->last_call, self->state, self->fast,
                                 self->at_once, args[0], args[1], self->func);
    }
    if (nargs == 1 && kwnames == NULL && !self->takes_argument) {
        PyObject *call = fast_path_call_new(&self->last_call, self->state, self->fast,
                                            self->at_once, args[0], NULL, self->func);
        if (call != NULL) {
            ((FastPathCallObject *)call)->fallback_on_owner = true;
        }
        return call;
    }
    if (nargs == 1 && kwnames == NULL && self->default_arg != NULL) {
        return fast_path_call_new(&self->last_call, self->state, self->fast,
                                 self->at_once, args[0], self->default_arg, self->func);
    }
    return PyObject_Vectorcall(self->func, args, nargsf, kwnames);
}

static PyObject *
fast_path_method_descr_get(PyObject *op, PyObject *obj, PyObject *type)
{
    if (obj == NULL || obj == Py_None) {
        return Py_NewRef(op);
    }
    return PyMethod_New(op, obj);
}

/* Everything else (__name__, __code__ with its CO_COROUTINE flag,
 * __wrapped__, ...) is the coroutine method's, so introspection sees it; so
 * is __module__, which the type's dict holds for the type. */
static PyObject *
fast_path_method_getattro(PyObject *op, PyObject *name)
{
    if (PyUnicode_Check(name) && PyUnicode_CompareWithASCIIString(name, "__module__") == 0) {
        return PyObject_GetAttr(((FastPathMethodObject *)op)->func, name);
    }
    PyObject *value = PyObject_GenericGetAttr(op, name);
    if (value != NULL || !PyErr_ExceptionMatches(PyExc_AttributeError)) {
        return value;
    }
    PyErr_Clear();
    return PyObject_GetAttr(((FastPathMethodObject *)op)->func, name);
}

/* Whether the Python method `func` takes an argument besides self: false
 * only when its code says it takes self alone. */
static bool
method_takes_argument(PyObject *func)
{
    long counts[2] = {2, 0}; /* co_argcount, co_flags */
    const char *names[2] = {"co_argcount", "co_flags"};
    PyObject *code = PyObject_GetAttrString(func, "__code__");
    for (int i = 0; code != NULL && i < 2; i++) {
        PyObject *value = PyObject_GetAttrString(code, names[i]);
        counts[i] = value != NULL ? PyLong_AsLong(value) : 2;
        Py_XDECREF(value);
    }
    Py_XDECREF(code);
    PyErr_Clear();
    return counts[0] != 1 || (counts[1] & (CO_VARARGS | CO_VARKEYWORDS)) != 0;
}

static PyObject *
fast_path_method_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    PyObject *func, *at_once, *default_arg = NULL;
    if (kwargs != NULL && PyDict_GET_SIZE(kwargs) != 0) {
        PyErr_SetString(PyExc_TypeError, "FastPathMethod() takes no keyword arguments");
        return NULL;
    }
    if (!PyArg_UnpackTuple(args, "FastPathMethod", 2, 3, &func, &at_once, &default_arg)) {
        return NULL;
    }
    if (!PyCallable_Check(func) || !PyCallable_Check(at_once)) {
        PyErr_SetString(PyExc_TypeError, "FastPathMethod() takes two callables");
        return NULL;
    }
    FastPathMethodObject *self = (FastPathMethodObject *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    self->func = Py_NewRef(func);
    self->at_once = Py_NewRef(at_once);
    self->default_arg = Py_XNewRef(default_arg);
    self->takes_argument = method_takes_argument(func);
    self->fast = fast_path_of(at_once);
    self->vectorcall = fast_path_method_vectorcall;
    self->state = PyType_GetModuleState(type);
    return (PyObject *)self;
}

static int
fast_path_method_traverse(PyObject *op, visitproc visit, void *arg)
{
    FastPathMethodObject *self = (FastPathMethodObject *)op;
    Py_VISIT(Py_TYPE(op));
    Py_VISIT(self->func);
    Py_VISIT(self->at_once);
    Py_VISIT(self->default_arg);
    Py_VISIT(self->last_call);
    return 0;
}

static int
fast_path_method_clear(PyObject *op)
{
    FastPathMethodObject *self = (FastPathMethodObject *)op;
    Py_CLEAR(self->func);
    Py_CLEAR(self->at_once);
    Py_CLEAR(self->default_arg);
    Py_CLEAR(self->last_call);
    return 0;
}

static void
fast_path_method_dealloc(PyObject *op)
{
    PyTypeObject *type = Py_TYPE(op);
    PyObject_GC_UnTrack(op);
    (void)fast_path_method_clear(op);
    type->tp_free(op);
    Py_DECREF(type);
}

static PyMemberDef fast_path_method_members[] = {
    {"__vectorcalloffset__", T_PYSSIZET, offsetof(FastPathMethodObject, vectorcall), READONLY,
     NULL},
    {"__func__", T_OBJECT, offsetof(FastPathMethodObject, func), READONLY,
     "The coroutine method, which does all but the common case."},
    {"at_once", T_OBJECT, offsetof(FastPathMethodObject, at_once), READONLY,
     "at_once(self, arg): the common case's result, or None."},
    {NULL, 0, 0, 0, NULL},
};

/* A descriptor in place of the type's docstring (which would shadow it): pydoc
 * reads a method's __doc__ with object.__getattribute__, past tp_getattro. */
static PyObject *
fast_path_method_get_doc(PyObject *op, void *closure)
{
    return PyObject_GetAttrString(((FastPathMethodObject *)op)->func, "__doc__");
}

static PyGetSetDef fast_path_method_getset[] = {
    {"__doc__", fast_path_method_get_doc, NULL, "The docstring of the coroutine method.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot fast_path_method_slots[] = {
    {Py_tp_new, fast_path_method_new},
    {Py_tp_dealloc, fast_path_method_dealloc},
    {Py_tp_traverse, fast_path_method_traverse},
    {Py_tp_clear, fast_path_method_clear},
    {Py_tp_call, PyVectorcall_Call},
    {Py_tp_descr_get, fast_path_method_descr_get},
    {Py_tp_getattro, fast_path_method_getattro},
    {Py_tp_members, fast_path_method_members},
    {Py_tp_getset, fast_path_method_getset},
    {0, NULL},
};

static PyType_Spec fast_path_method_spec = {
    .name = "asyncfile._speedups.FastPathMethod",
    .basicsize = sizeof(FastPathMethodObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_IMMUTABLETYPE |
             Py_TPFLAGS_HAVE_VECTORCALL | Py_TPFLAGS_METHOD_DESCRIPTOR,
    .slots = fast_path_method_slots,
};

/* ---------------------------------------------------------------------------
 * ChunkReaderBase: a ChunkReader's hot state, declared.
 *
 * streams._chunks.ChunkReader derives from it: what serving a cached chunk
 * reads and moves (the range, where the next read starts, the descriptor and
 * the core's cached reader, the flags that rule the fast path out) are these
 * members, which Chunks reads from the struct rather than by name from the
 * reader's __dict__.  streams._chunks.PyChunkReaderBase (__slots__ of the
 * same names) is its twin; tests/test_streams_declared_fields.py checks that
 * the two declare the same names and that the fast path fires.
 */

typedef struct {
    PyObject_HEAD
    PyObject *cached_reader; /* _cached_reader: the core's read_cached, or None */
    PyObject *pending;       /* _pending: the reads in flight (a deque) */
    PyObject *chunk_size;    /* chunk_size: an int */
    PyObject *end;           /* end: an int; None: to the end of the file */
    PyObject *next;          /* _next: an int, where the next read starts */
    PyObject *offset;        /* _offset: an int, where the next chunk starts */
    PyObject *held;          /* _held: the buffer the caller has, or None */
    int fd;                  /* _fd: the descriptor read; -1 while none is open */
    char closed;             /* _closed */
    char busy;               /* _busy: a __anext__ is running */
    char eof;                /* _eof: a read came back short */
    char reuse_buffers;      /* reuse_buffers */
} ChunkReaderObject;

static PyMemberDef chunk_reader_members[] = {
    {"_cached_reader", T_OBJECT, offsetof(ChunkReaderObject, cached_reader), 0, NULL},
    {"_pending", T_OBJECT, offsetof(ChunkReaderObject, pending), 0, NULL},
    {"chunk_size", T_OBJECT, offsetof(ChunkReaderObject, chunk_size), 0, NULL},
    {"end", T_OBJECT, offsetof(ChunkReaderObject, end), 0, NULL},
    {"_next", T_OBJECT, offsetof(ChunkReaderObject, next), 0, NULL},
    {"_offset", T_OBJECT, offsetof(ChunkReaderObject, offset), 0, NULL},
    {"_held", T_OBJECT, offsetof(ChunkReaderObject, held), 0, NULL},
    {"_fd", T_INT, offsetof(ChunkReaderObject, fd), 0, NULL},
    {"_closed", T_BOOL, offsetof(ChunkReaderObject, closed), 0, NULL},
    {"_busy", T_BOOL, offsetof(ChunkReaderObject, busy), 0, NULL},
    {"_eof", T_BOOL, offsetof(ChunkReaderObject, eof), 0, NULL},
    {"reuse_buffers", T_BOOL, offsetof(ChunkReaderObject, reuse_buffers), 0, NULL},
    {NULL, 0, 0, 0, NULL},
};

static PyObject *
chunk_reader_new(PyTypeObject *type, PyObject *Py_UNUSED(args),
                 PyObject *Py_UNUSED(kwargs))
{
    ChunkReaderObject *self = (ChunkReaderObject *)type->tp_alloc(type, 0);
    if (self != NULL) {
        self->fd = -1;
    }
    return (PyObject *)self;
}

static int
chunk_reader_traverse(PyObject *op, visitproc visit, void *arg)
{
    ChunkReaderObject *self = (ChunkReaderObject *)op;
    Py_VISIT(Py_TYPE(op));
    Py_VISIT(self->cached_reader);
    Py_VISIT(self->pending);
    Py_VISIT(self->chunk_size);
    Py_VISIT(self->end);
    Py_VISIT(self->next);
    Py_VISIT(self->offset);
    Py_VISIT(self->held);
    return 0;
}

static int
chunk_reader_clear(PyObject *op)
{
    ChunkReaderObject *self = (ChunkReaderObject *)op;
    Py_CLEAR(self->cached_reader);
    Py_CLEAR(self->pending);
    Py_CLEAR(self->chunk_size);
    Py_CLEAR(self->end);
    Py_CLEAR(self->next);
    Py_CLEAR(self->offset);
    Py_CLEAR(self->held);
    return 0;
}

static void
chunk_reader_dealloc(PyObject *op)
{
    PyTypeObject *type = Py_TYPE(op);
    PyObject_GC_UnTrack(op);
    (void)chunk_reader_clear(op);
    type->tp_free(op);
    Py_DECREF(type);
}

PyDoc_STRVAR(chunk_reader__doc__,
"ChunkReaderBase()\n--\n\n"
"The state of an asyncfile ChunkReader that its fast path reads and moves:\n"
"_cached_reader, _pending, chunk_size, end, _next, _offset, _held, _fd,\n"
"_closed, _busy, _eof, reuse_buffers.");

static PyType_Slot chunk_reader_slots[] = {
    {Py_tp_new, chunk_reader_new},
    {Py_tp_dealloc, chunk_reader_dealloc},
    {Py_tp_traverse, chunk_reader_traverse},
    {Py_tp_clear, chunk_reader_clear},
    {Py_tp_members, chunk_reader_members},
    {Py_tp_doc, (void *)chunk_reader__doc__},
    {0, NULL},
};

static PyType_Spec chunk_reader_spec = {
    .name = "asyncfile._speedups.ChunkReaderBase",
    .basicsize = sizeof(ChunkReaderObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_BASETYPE |
             Py_TPFLAGS_IMMUTABLETYPE,
    .slots = chunk_reader_slots,
};

/* ---------------------------------------------------------------------------
 * Chunks: `async for` over a ChunkReader.
 */

typedef struct {
    PyObject_HEAD
    PyObject *reader;
    ChunkReaderObject *fields; /* `reader`, if it is a ChunkReaderBase; else NULL */
    PyObject *anext;    /* reader.__anext__, for every chunk not served here */
    PyObject *last_call; /* the last call handed out, reused once let go */
    speedups_state *state;
} ChunksObject;

/* What ChunkReader.__anext__ returns when nothing is pending and the page
 * cache has the next chunk now (ChunkReader._cached_chunk, without its
 * frames); NULL without an error when __anext__ must run, with one when the
 * read failed. */
static PyObject *
chunks_take_cached(FastPathCallObject *call)
{
    ChunkReaderObject *reader = ((ChunksObject *)call->owner)->fields;
    Py_ssize_t next, chunk_size;
    if (reader == NULL || reader->closed || reader->busy || reader->eof ||
        reader->reuse_buffers || reader->fd < 0 || reader->held != Py_None ||
        reader->cached_reader == NULL || reader->cached_reader == Py_None ||
        reader->pending == NULL || reader->end == NULL ||
        !exact_ssize(reader->next, &next) ||
        !exact_ssize(reader->chunk_size, &chunk_size)) {
        return NULL;
    }
    Py_ssize_t waiting = PyObject_Size(reader->pending);
    if (waiting != 0) {
        PyErr_Clear();
        return NULL;
    }
    Py_ssize_t size = chunk_size;
    if (reader->end != Py_None) {
        Py_ssize_t stop;
        if (!exact_ssize(reader->end, &stop)) {
            return NULL;
        }
        size = Py_MIN(chunk_size, stop - next);
    }
    if (size <= 0) {
        return NULL; /* the end of the range: __anext__ closes the reader */
    }
    PyObject *size_arg =
        size == chunk_size ? Py_NewRef(reader->chunk_size) : PyLong_FromSsize_t(size);
    PyObject *fd_arg = size_arg != NULL ? PyLong_FromLong(reader->fd) : NULL;
    if (fd_arg == NULL) {
        Py_XDECREF(size_arg);
        return NULL;
    }
    /* New references: the call may run code that moves the reader's fields. */
    PyObject *read_cached = Py_NewRef(reader->cached_reader);
    PyObject *args[4] = {NULL, size_arg, fd_arg, Py_NewRef(reader->next)};
    PyObject *data = PyObject_Vectorcall(read_cached, args + 1,
                                         3 | PY_VECTORCALL_ARGUMENTS_OFFSET, NULL);
    Py_DECREF(read_cached);
    Py_DECREF(args[1]);
    Py_DECREF(args[2]);
    Py_DECREF(args[3]);
    if (data == Py_False) {
        /* The loop must run first.  Nothing here holds the reader across
         * that turn (one read at a time is the caller's rule), so the
         * next chunk is read then, at once, rather than by __anext__. */
        Py_DECREF(data);
        call->wants_turn = true;
        return NULL;
    }
    if (data == NULL || !PyBytes_CheckExact(data) || PyBytes_GET_SIZE(data) == 0) {
        /* None (the read must be awaited); or an error, or the end of the
         * file, which __anext__ meets again and closes the reader for. */
        PyErr_Clear();
        Py_XDECREF(data);
        return NULL;
    }
    Py_ssize_t got = PyBytes_GET_SIZE(data);
    PyObject *offset = PyLong_FromSsize_t(next + got);
    if (offset == NULL) {
        Py_DECREF(data);
        return NULL;
    }
    Py_XSETREF(reader->next, Py_NewRef(offset));
    Py_XSETREF(reader->offset, offset);
    if (got < size) {
        reader->eof = 1;
    }
    return data;
}

static PyObject *
chunks_anext(PyObject *op)
{
    ChunksObject *self = (ChunksObject *)op;
    return fast_path_call_new(&self->last_call, self->state, chunks_take_cached, NULL, op,
                             NULL, self->anext);
}

static PyObject *
chunks_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    PyObject *reader;
    if (kwargs != NULL && PyDict_GET_SIZE(kwargs) != 0) {
        PyErr_SetString(PyExc_TypeError, "Chunks() takes no keyword arguments");
        return NULL;
    }
    if (!PyArg_UnpackTuple(args, "Chunks", 1, 1, &reader)) {
        return NULL;
    }
    speedups_state *st = PyType_GetModuleState(type);
    ChunksObject *self = (ChunksObject *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    self->state = st;
    self->reader = Py_NewRef(reader);
    self->anext = PyObject_GetAttr(reader, st->str_anext);
    if (self->anext == NULL) {
        Py_DECREF(self);
        return NULL;
    }
    self->fields = PyObject_TypeCheck(reader, st->chunk_reader_type)
                       ? (ChunkReaderObject *)reader
                       : NULL;
    return (PyObject *)self;
}

static int
chunks_traverse(PyObject *op, visitproc visit, void *arg)
{
    ChunksObject *self = (ChunksObject *)op;
    Py_VISIT(Py_TYPE(op));
    Py_VISIT(self->reader);
    Py_VISIT(self->anext);
    Py_VISIT(self->last_call);
    return 0;
}

static int
chunks_clear(PyObject *op)
{
    ChunksObject *self = (ChunksObject *)op;
    self->fields = NULL;
    Py_CLEAR(self->reader);
    Py_CLEAR(self->anext);
    Py_CLEAR(self->last_call);
    return 0;
}

static void
chunks_dealloc(PyObject *op)
{
    PyTypeObject *type = Py_TYPE(op);
    PyObject_GC_UnTrack(op);
    (void)chunks_clear(op);
    type->tp_free(op);
    Py_DECREF(type);
}

PyDoc_STRVAR(chunks__doc__,
"Chunks(reader, /)\n--\n\n"
"The chunks of an asyncfile ChunkReader for `async for`: each is what\n"
"`await reader.__anext__()` returns.");

static PyType_Slot chunks_slots[] = {
    {Py_tp_new, chunks_new},
    {Py_tp_dealloc, chunks_dealloc},
    {Py_tp_traverse, chunks_traverse},
    {Py_tp_clear, chunks_clear},
    {Py_am_aiter, PyObject_SelfIter},
    {Py_am_anext, chunks_anext},
    {Py_tp_doc, (void *)chunks__doc__},
    {0, NULL},
};

static PyType_Spec chunks_spec = {
    .name = "asyncfile._speedups.Chunks",
    .basicsize = sizeof(ChunksObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_IMMUTABLETYPE,
    .slots = chunks_slots,
};

/* ---------------------------------------------------------------------------
 * The module
 */

static int
speedups_exec(PyObject *module)
{
    speedups_state *st = get_state(module);
    struct {
        PyObject **slot;
        const char *text;
    } names[] = {
        {&st->str_owner, "_owner"},
        {&st->str_anext, "__anext__"},
        {&st->str_throw, "throw"},
        {&st->str_close, "close"},
        {&st->str_reads, "_reads"},
        {&st->str_writes, "_writes"},
        {&st->str_install, "_install"},
        {&st->str_closefd, "_closefd"},
        {&st->str_context, "_context"},
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if ((*names[i].slot = PyUnicode_InternFromString(names[i].text)) == NULL) {
            return -1;
        }
    }
    PyObject *context_keyword = PyUnicode_InternFromString("context");
    if (context_keyword == NULL) {
        return -1;
    }
    st->context_kwnames = PyTuple_Pack(1, context_keyword);
    Py_DECREF(context_keyword);
    if (st->context_kwnames == NULL) {
        return -1;
    }
    st->fast_path_call_type =
        (PyTypeObject *)PyType_FromModuleAndSpec(module, &fast_path_call_spec, NULL);
    if (st->fast_path_call_type == NULL || PyModule_AddType(module, st->fast_path_call_type) < 0) {
        return -1;
    }
    st->text_lines_type =
        (PyTypeObject *)PyType_FromModuleAndSpec(module, &text_lines_spec, NULL);
    if (st->text_lines_type == NULL) {
        return -1;
    }
    st->fast_path_method_type =
        (PyTypeObject *)PyType_FromModuleAndSpec(module, &fast_path_method_spec, NULL);
    if (st->fast_path_method_type == NULL) {
        return -1;
    }
    if (PyModule_AddType(module, st->fast_path_method_type) < 0) {
        return -1;
    }
    st->raw_file_type =
        (PyTypeObject *)PyType_FromModuleAndSpec(module, &raw_file_spec, NULL);
    if (st->raw_file_type == NULL || PyModule_AddType(module, st->raw_file_type) < 0) {
        return -1;
    }
    st->buffered_file_type =
        (PyTypeObject *)PyType_FromModuleAndSpec(module, &buffered_file_spec, NULL);
    if (st->buffered_file_type == NULL ||
        PyModule_AddType(module, st->buffered_file_type) < 0) {
        return -1;
    }
    st->text_file_type =
        (PyTypeObject *)PyType_FromModuleAndSpec(module, &text_file_spec, NULL);
    if (st->text_file_type == NULL || PyModule_AddType(module, st->text_file_type) < 0) {
        return -1;
    }
    st->chunk_reader_type =
        (PyTypeObject *)PyType_FromModuleAndSpec(module, &chunk_reader_spec, NULL);
    if (st->chunk_reader_type == NULL ||
        PyModule_AddType(module, st->chunk_reader_type) < 0) {
        return -1;
    }
    st->chunks_type =
        (PyTypeObject *)PyType_FromModuleAndSpec(module, &chunks_spec, NULL);
    if (st->chunks_type == NULL || PyModule_AddType(module, st->chunks_type) < 0) {
        return -1;
    }
    return PyModule_AddType(module, st->text_lines_type);
}

static int
speedups_traverse(PyObject *module, visitproc visit, void *arg)
{
    speedups_state *st = get_state(module);
    Py_VISIT(st->text_lines_type);
    Py_VISIT(st->fast_path_method_type);
    Py_VISIT(st->fast_path_call_type);
    Py_VISIT(st->lock_type);
    Py_VISIT(st->lock_owner_slot);
    Py_VISIT(st->buffered_type);
    Py_VISIT(st->chunk_reader_type);
    Py_VISIT(st->chunks_type);
    Py_VISIT(st->raw_file_type);
    Py_VISIT(st->buffered_file_type);
    Py_VISIT(st->text_file_type);
    Py_VISIT(st->filesystem_module);
    Py_VISIT(st->running_loop);
    return 0;
}

static int
speedups_clear(PyObject *module)
{
    speedups_state *st = get_state(module);
    Py_CLEAR(st->text_lines_type);
    Py_CLEAR(st->fast_path_call_type);
    Py_CLEAR(st->str_owner);
    Py_CLEAR(st->str_anext);
    Py_CLEAR(st->str_throw);
    Py_CLEAR(st->str_close);
    Py_CLEAR(st->fast_path_method_type);
    Py_CLEAR(st->lock_type);
    Py_CLEAR(st->lock_owner_slot);
    Py_CLEAR(st->str_reads);
    Py_CLEAR(st->str_writes);
    Py_CLEAR(st->str_install);
    Py_CLEAR(st->buffered_type);
    Py_CLEAR(st->chunk_reader_type);
    Py_CLEAR(st->chunks_type);
    Py_CLEAR(st->raw_file_type);
    Py_CLEAR(st->buffered_file_type);
    Py_CLEAR(st->text_file_type);
    Py_CLEAR(st->filesystem_module);
    Py_CLEAR(st->running_loop);
    Py_CLEAR(st->str_closefd);
    Py_CLEAR(st->str_context);
    Py_CLEAR(st->context_kwnames);
    return 0;
}

static void
speedups_free(void *module)
{
    speedups_clear((PyObject *)module);
}

static PyMethodDef speedups_functions[] = {
    {"write_plainly", (PyCFunction)(void (*)(void))write_plainly, METH_FASTCALL,
     write_plainly__doc__},
    {"read_at_once", (PyCFunction)(void (*)(void))read_at_once, METH_FASTCALL,
     read_at_once__doc__},
    {"start_close", (PyCFunction)(void (*)(void))start_close, METH_FASTCALL,
     start_close__doc__},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot speedups_slots[] = {
    {Py_mod_exec, speedups_exec},
#if PY_VERSION_HEX >= 0x030C0000
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
#endif
    {0, NULL},
};

static struct PyModuleDef speedups_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "asyncfile._speedups",
    .m_doc = PyDoc_STR("C accelerators for asyncfile's file objects (optional)."),
    .m_size = sizeof(speedups_state),
    .m_methods = speedups_functions,
    .m_slots = speedups_slots,
    .m_traverse = speedups_traverse,
    .m_clear = speedups_clear,
    .m_free = speedups_free,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    return PyModuleDef_Init(&speedups_module);
}
