/*
 * Operation: caio's one-shot description of a read, write or sync, shared by
 * every native backend.  Submitting it copies it into one of the context's
 * request slots; completion copies the outcome back and calls the callback.
 */
#include "core.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <string.h>
#include <structmember.h>

enum operation_state { OPERATION_NEW, OPERATION_IN_FLIGHT, OPERATION_DONE };

typedef struct {
    PyObject_HEAD
    enum opcode opcode;
    enum operation_state state;
    int fd;
    int priority;
    uint64_t offset;
    size_t nbytes;
    int64_t result;              /* count, or -errno */
    PyObject *buffer;            /* write payload, readinto target, read result */
    PyObject *callback;
    PyObject *context;           /* while in flight: keeps the context alive */
    struct request *req;         /* while in flight */
    PyObject *weakreflist;
} OperationObject;

static aio_state *
operation_state(PyTypeObject *type)
{
    return PyType_GetModuleState(type);
}

static OperationObject *
operation_new(PyTypeObject *type, enum opcode opcode, int fd, uint64_t offset,
              size_t nbytes, int priority)
{
    OperationObject *self = (OperationObject *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    self->opcode = opcode;
    self->state = OPERATION_NEW;
    self->fd = fd;
    self->offset = offset;
    self->nbytes = nbytes;
    self->priority = priority;
    return self;
}

PyObject *
raise_buffer_type_error(aio_state *state, PyObject *obj, bool writable)
{
    PyErr_Format(state->buffer_type_error, "a %s C-contiguous buffer is required, not %R",
                 writable ? "writable" : "bytes-like", (PyObject *)Py_TYPE(obj));
    return NULL;
}

PyDoc_STRVAR(operation_read__doc__,
"read($type, /, nbytes, fd, offset=0, priority=0)\n--\n\n"
"Read up to nbytes at offset; the value is the bytes read.  offset -1 (or\n"
"2**64-1) reads at the descriptor's position, as read(2): a pipe, FIFO,\n"
"socket or terminal gives what it holds once it holds something.");

/* The keywords the constructors take, in caio's order. */
static const char *const read_keywords[] = {"nbytes", "fd", "offset", "priority"};
static const char *const write_keywords[] = {"payload_bytes", "fd", "offset", "priority"};
static const char *const readinto_keywords[] = {"buffer", "fd", "offset", "priority"};
static const char *const sync_keywords[] = {"fd", "priority"};

static PyObject *
operation_read_impl(PyTypeObject *type, size_t nbytes, int fd, uint64_t offset,
                    int priority)
{
    if (nbytes > (size_t)PY_SSIZE_T_MAX) {
        return PyErr_Format(PyExc_OverflowError, "cannot read %zu bytes at once",
                            nbytes);
    }
    OperationObject *self = operation_new(type, OP_READ, fd, offset, nbytes, priority);
    if (self == NULL) {
        return NULL;
    }
    /* Allocated now, as caio does: a size no memory can hold fails here, and
     * the payload is this buffer once the read is done. */
    self->buffer = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)nbytes);
    if (self->buffer == NULL) {
        Py_DECREF(self);
        return NULL;
    }
    return (PyObject *)self;
}

static PyObject *
operation_read(PyTypeObject *type, PyObject *const *args, Py_ssize_t nargs,
               PyObject *kwnames)
{
    PyObject *return_value = NULL;
    PyObject *argsbuf[4];
    size_t nbytes;
    int fd;
    uint64_t offset = 0;
    int priority = 0;

    if (unpack_keywords("read", args, nargs, kwnames, read_keywords, 2, 4, argsbuf) < 0 ||
        !size_converter(argsbuf[0], &nbytes) || !fd_converter(argsbuf[1], &fd) ||
        (argsbuf[2] != NULL && !offset_converter(argsbuf[2], &offset)) ||
        (argsbuf[3] != NULL && !int_converter(argsbuf[3], &priority))) {
        goto exit;
    }
    return_value = operation_read_impl(type, nbytes, fd, offset, priority);

exit:
    return return_value;
}

static PyObject *
operation_with_buffer_impl(PyTypeObject *type, enum opcode opcode, PyObject *buffer,
                           int fd, uint64_t offset, int priority)
{
    bool writable = opcode == OP_READINTO;
    Py_buffer view;
    int flags = PyBUF_C_CONTIGUOUS | (writable ? PyBUF_WRITABLE : 0);
    if (PyObject_GetBuffer(buffer, &view, flags) < 0) {
        PyErr_Clear();
        aio_state *state = operation_state(type);
        return state == NULL ? NULL : raise_buffer_type_error(state, buffer, writable);
    }
    size_t nbytes = (size_t)view.len;
    PyBuffer_Release(&view);
    OperationObject *self = operation_new(type, opcode, fd, offset, nbytes, priority);
    if (self != NULL) {
        self->buffer = Py_NewRef(buffer);
    }
    return (PyObject *)self;
}

/* The parser write and readinto share: (buffer, fd, offset=0, priority=0).
 * The buffer stays an object: its view is taken again when the operation is
 * submitted, and held until it completes. */
static PyObject *
operation_with_buffer(PyTypeObject *type, PyObject *const *args, Py_ssize_t nargs,
                      PyObject *kwnames, enum opcode opcode, const char *name,
                      const char *const *keywords)
{
    PyObject *return_value = NULL;
    PyObject *argsbuf[4];
    int fd;
    uint64_t offset = 0;
    int priority = 0;

    if (unpack_keywords(name, args, nargs, kwnames, keywords, 2, 4, argsbuf) < 0 ||
        !fd_converter(argsbuf[1], &fd) ||
        (argsbuf[2] != NULL && !offset_converter(argsbuf[2], &offset)) ||
        (argsbuf[3] != NULL && !int_converter(argsbuf[3], &priority))) {
        goto exit;
    }
    return_value =
        operation_with_buffer_impl(type, opcode, argsbuf[0], fd, offset, priority);

exit:
    return return_value;
}

PyDoc_STRVAR(operation_write__doc__,
"write($type, /, payload_bytes, fd, offset=0, priority=0)\n--\n\n"
"Write a contiguous buffer at offset; the value is the count written.");

static PyObject *
operation_write(PyTypeObject *type, PyObject *const *args, Py_ssize_t nargs,
                PyObject *kwnames)
{
    return operation_with_buffer(type, args, nargs, kwnames, OP_WRITE, "write",
                                 write_keywords);
}

PyDoc_STRVAR(operation_readinto__doc__,
"readinto($type, /, buffer, fd, offset=0, priority=0)\n--\n\n"
"Read into a writable buffer at offset; the value is the count read.");

static PyObject *
operation_readinto(PyTypeObject *type, PyObject *const *args, Py_ssize_t nargs,
                   PyObject *kwnames)
{
    return operation_with_buffer(type, args, nargs, kwnames, OP_READINTO, "readinto",
                                 readinto_keywords);
}

/* The parser fsync and fdsync share: (fd, priority=0). */
static PyObject *
operation_sync(PyTypeObject *type, PyObject *const *args, Py_ssize_t nargs,
               PyObject *kwnames, enum opcode opcode, const char *name)
{
    PyObject *return_value = NULL;
    PyObject *argsbuf[2];
    int fd;
    int priority = 0;

    if (unpack_keywords(name, args, nargs, kwnames, sync_keywords, 1, 2, argsbuf) < 0 ||
        !fd_converter(argsbuf[0], &fd) ||
        (argsbuf[1] != NULL && !int_converter(argsbuf[1], &priority))) {
        goto exit;
    }
    return_value = (PyObject *)operation_new(type, opcode, fd, 0, 0, priority);

exit:
    return return_value;
}

PyDoc_STRVAR(operation_fsync__doc__,
"fsync($type, /, fd, priority=0)\n--\n\n"
"Flush the file's data and metadata to the device: fsync(2), as os.fsync.\n"
"On macOS that reaches the drive but not past its own cache, which only\n"
"fcntl(fd, F_FULLFSYNC) flushes.");

static PyObject *
operation_fsync(PyTypeObject *type, PyObject *const *args, Py_ssize_t nargs,
                PyObject *kwnames)
{
    return operation_sync(type, args, nargs, kwnames, OP_FSYNC, "fsync");
}

PyDoc_STRVAR(operation_fdsync__doc__,
"fdsync($type, /, fd, priority=0)\n--\n\n"
"Flush the file's data (and the metadata needed to read it back):\n"
"fdatasync(2); fsync(2) on macOS, which has no fdatasync.");

static PyObject *
operation_fdsync(PyTypeObject *type, PyObject *const *args, Py_ssize_t nargs,
                 PyObject *kwnames)
{
    return operation_sync(type, args, nargs, kwnames, OP_FDSYNC, "fdsync");
}

static PyObject *
raise_in_flight(void)
{
    PyErr_SetString(PyExc_RuntimeError, "the operation is still in flight");
    return NULL;
}

PyDoc_STRVAR(operation_get_value__doc__,
"get_value($self, /)\n--\n\n"
"The result: bytes for read, a count for readinto and write, None for syncs.\n\n"
"Raises the operation's OSError if it failed, RuntimeError while in flight.");

static PyObject *
operation_get_value(PyObject *op, PyObject *Py_UNUSED(ignored))
{
    OperationObject *self = (OperationObject *)op;
    if (self->state == OPERATION_IN_FLIGHT) {
        return raise_in_flight();
    }
    if (self->result < 0) {
        aio_state *state = operation_state(Py_TYPE(op));
        return state == NULL ? NULL : raise_errno(state, (int)-self->result, self->fd);
    }
    switch (self->opcode) {
    case OP_READ:
        if (self->buffer == NULL) {
            return PyBytes_FromStringAndSize(NULL, 0);
        }
        if ((size_t)self->result == self->nbytes) {
            return Py_NewRef(self->buffer);
        }
        return PyBytes_FromStringAndSize(PyBytes_AS_STRING(self->buffer),
                                         (Py_ssize_t)self->result);
    case OP_READINTO:
    case OP_WRITE:
        return PyLong_FromLongLong(self->result);
    default: /* syncs; an Operation is never a filesystem call */
        break;
    }
    Py_RETURN_NONE;
}

PyDoc_STRVAR(operation_set_callback__doc__,
"set_callback($self, callback, /)\n--\n\n"
"Call callback(result) once the operation completes: the count transferred,\n"
"or minus the errno on failure.");

static PyObject *
operation_set_callback(PyObject *op, PyObject *callback)
{
    OperationObject *self = (OperationObject *)op;
    if (!PyCallable_Check(callback)) {
        return PyErr_Format(PyExc_ValueError, "callback must be callable, got %R",
                            callback);
    }
    Py_XSETREF(self->callback, Py_NewRef(callback));
    Py_RETURN_TRUE;
}

static PyObject *
operation_repr(PyObject *op)
{
    static const char *names[] = {"read", "readinto", "write", "fsync", "fdsync"};
    static const char *states[] = {"new", "in flight", "done"};
    OperationObject *self = (OperationObject *)op;
    return PyUnicode_FromFormat("<%s %s fd=%d offset=%llu nbytes=%zu %s>",
                                Py_TYPE(op)->tp_name, names[self->opcode], self->fd,
                                (unsigned long long)self->offset, self->nbytes,
                                states[self->state]);
}

static PyObject *
operation_get_fileno(PyObject *op, void *Py_UNUSED(closure))
{
    return PyLong_FromLong(((OperationObject *)op)->fd);
}

static PyObject *
operation_get_offset(PyObject *op, void *Py_UNUSED(closure))
{
    uint64_t offset = ((OperationObject *)op)->offset;
    if (offset == OFFSET_CURRENT) {
        return PyLong_FromLong(-1);
    }
    return PyLong_FromUnsignedLongLong(offset);
}

static PyObject *
operation_get_nbytes(PyObject *op, void *Py_UNUSED(closure))
{
    return PyLong_FromSize_t(((OperationObject *)op)->nbytes);
}

static PyObject *
operation_get_payload(PyObject *op, void *Py_UNUSED(closure))
{
    OperationObject *self = (OperationObject *)op;
    if (self->state == OPERATION_IN_FLIGHT) {
        return raise_in_flight();
    }
    if (self->buffer == NULL || (self->opcode == OP_READ && self->state == OPERATION_NEW)) {
        /* A read's buffer is not handed out before the kernel fills it. */
        Py_RETURN_NONE;
    }
    return Py_NewRef(self->buffer);
}

static PyObject *
operation_get_result(PyObject *op, void *Py_UNUSED(closure))
{
    OperationObject *self = (OperationObject *)op;
    return PyLong_FromLongLong(self->result > 0 ? self->result : 0);
}

static PyObject *
operation_get_error(PyObject *op, void *Py_UNUSED(closure))
{
    OperationObject *self = (OperationObject *)op;
    return PyLong_FromLongLong(self->result < 0 ? -self->result : 0);
}

static PyObject *
operation_get_context(PyObject *op, void *Py_UNUSED(closure))
{
    OperationObject *self = (OperationObject *)op;
    return Py_NewRef(self->context != NULL ? self->context : Py_None);
}

/* Called by submit: fill `req` from the operation; -1 with an error set. */
struct request *
operation_claim(PyObject *op, struct context *ctx)
{
    OperationObject *self = (OperationObject *)op;
    struct request *req = request_acquire(ctx);
    if (req == NULL) {
        PyErr_Format(ctx->state->queue_full_error,
                     "max_requests (%u) operations already in flight",
                     ctx->max_requests);
        return NULL;
    }
    req->opcode = self->opcode;
    req->fd = self->fd;
    req->offset = self->offset;
    req->nbytes = self->nbytes;
    if (self->opcode == OP_READ) {
        req->bytes = Py_NewRef(self->buffer);
        req->data = PyBytes_AS_STRING(req->bytes);
    }
    else if (self->buffer != NULL) {
        int flags = PyBUF_C_CONTIGUOUS |
                    (self->opcode == OP_READINTO ? PyBUF_WRITABLE : 0);
        if (PyObject_GetBuffer(self->buffer, &req->view, flags) < 0) {
            request_release(ctx, req);
            return NULL;
        }
        req->has_view = true;
        req->data = req->view.buf;
        req->nbytes = (size_t)req->view.len;
    }
    req->direct = fd_is_direct(req->fd);
    if (request_prepare_direct(req) < 0) {
        request_release(ctx, req);
        return NULL;
    }
    req->owner = Py_NewRef(op);
    req->owner_is_future = false;
    self->req = req;
    self->state = OPERATION_IN_FLIGHT;
    Py_XSETREF(self->context, Py_NewRef((PyObject *)ctx));
    return req;
}

bool
operation_is_new(PyObject *op)
{
    return ((OperationObject *)op)->state == OPERATION_NEW;
}

struct request *
operation_request(PyObject *op)
{
    OperationObject *self = (OperationObject *)op;
    return self->state == OPERATION_IN_FLIGHT ? self->req : NULL;
}

/* The request could not be started after all: the operation may be retried. */
void
operation_unclaim(PyObject *op)
{
    OperationObject *self = (OperationObject *)op;
    self->req = NULL;
    self->state = OPERATION_NEW;
    Py_CLEAR(self->context);
}

/* Take the outcome of `req`; returns the callback to call (a new reference),
 * already cleared from the operation so a reentrant call cannot repeat it. */
PyObject *
operation_finish(PyObject *op, struct request *req)
{
    OperationObject *self = (OperationObject *)op;
    self->result = req->result;
    if (self->opcode == OP_READ) {
        /* The payload is the whole buffer: what the kernel did not fill reads
         * as zeros, never as leftover heap contents. */
        size_t filled = req->result > 0 ? (size_t)req->result : 0;
        memset(PyBytes_AS_STRING(self->buffer) + filled, 0, self->nbytes - filled);
    }
    self->req = NULL;
    self->state = OPERATION_DONE;
    Py_CLEAR(self->context);
    PyObject *callback = self->callback;
    self->callback = NULL;
    return callback;
}

int64_t
operation_result(PyObject *op)
{
    return ((OperationObject *)op)->result;
}

static int
operation_traverse(PyObject *op, visitproc visit, void *arg)
{
    OperationObject *self = (OperationObject *)op;
    Py_VISIT(Py_TYPE(op));
    Py_VISIT(self->buffer);
    Py_VISIT(self->callback);
    Py_VISIT(self->context);
    return 0;
}

static int
operation_clear(PyObject *op)
{
    OperationObject *self = (OperationObject *)op;
    Py_CLEAR(self->callback);
    if (self->state != OPERATION_IN_FLIGHT) {
        /* In flight, the kernel may still use the buffer: the request slot
         * holds its own reference, and the context keeps the operation. */
        Py_CLEAR(self->buffer);
        Py_CLEAR(self->context);
    }
    return 0;
}

static void
operation_dealloc(PyObject *op)
{
    OperationObject *self = (OperationObject *)op;
    PyTypeObject *type = Py_TYPE(op);
    PyObject_GC_UnTrack(op);
    if (self->weakreflist != NULL) {
        PyObject_ClearWeakRefs(op);
    }
    Py_CLEAR(self->callback);
    Py_CLEAR(self->buffer);
    Py_CLEAR(self->context);
    type->tp_free(op);
    Py_DECREF(type);
}

static PyMethodDef operation_methods[] = {
    {"read", (PyCFunction)(void (*)(void))operation_read,
     METH_FASTCALL | METH_KEYWORDS | METH_CLASS, operation_read__doc__},
    {"readinto", (PyCFunction)(void (*)(void))operation_readinto,
     METH_FASTCALL | METH_KEYWORDS | METH_CLASS, operation_readinto__doc__},
    {"write", (PyCFunction)(void (*)(void))operation_write,
     METH_FASTCALL | METH_KEYWORDS | METH_CLASS, operation_write__doc__},
    {"fsync", (PyCFunction)(void (*)(void))operation_fsync,
     METH_FASTCALL | METH_KEYWORDS | METH_CLASS, operation_fsync__doc__},
    {"fdsync", (PyCFunction)(void (*)(void))operation_fdsync,
     METH_FASTCALL | METH_KEYWORDS | METH_CLASS, operation_fdsync__doc__},
    {"get_value", operation_get_value, METH_NOARGS, operation_get_value__doc__},
    {"set_callback", operation_set_callback, METH_O, operation_set_callback__doc__},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef operation_getset[] = {
    {"fileno", operation_get_fileno, NULL, "The file descriptor.", NULL},
    {"offset", operation_get_offset, NULL,
     "The file offset; -1 for the descriptor's current position.", NULL},
    {"nbytes", operation_get_nbytes, NULL, "The size requested.", NULL},
    {"payload", operation_get_payload, NULL, "The data read or to write.", NULL},
    {"result", operation_get_result, NULL,
     "The count transferred once complete (0 for syncs and failures).", NULL},
    {"error", operation_get_error, NULL, "The errno of a failure, else 0.", NULL},
    {"context", operation_get_context, NULL,
     "The context running the operation, while it is in flight.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMemberDef operation_members[] = {
    {"__weaklistoffset__", T_PYSSIZET, offsetof(OperationObject, weakreflist),
     READONLY, NULL},
    {NULL, 0, 0, 0, NULL},
};

PyDoc_STRVAR(operation__doc__,
"One read, write or sync for the native backends; build it with the read,\n"
"readinto, write, fsync and fdsync class methods.  It runs once.");

static PyType_Slot operation_slots[] = {
    {Py_tp_doc, (void *)operation__doc__},
    {Py_tp_repr, operation_repr},
    {Py_tp_methods, operation_methods},
    {Py_tp_getset, operation_getset},
    {Py_tp_members, operation_members},
    {Py_tp_traverse, operation_traverse},
    {Py_tp_clear, operation_clear},
    {Py_tp_dealloc, operation_dealloc},
    {0, NULL},
};

static PyType_Spec operation_spec = {
    .name = "asyncfile.core._aio.Operation",
    .basicsize = sizeof(OperationObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_IMMUTABLETYPE |
             Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = operation_slots,
};

int
operation_module_init(PyObject *module, aio_state *state)
{
    state->operation_type =
        (PyTypeObject *)PyType_FromModuleAndSpec(module, &operation_spec, NULL);
    if (state->operation_type == NULL) {
        return -1;
    }
    return PyModule_AddType(module, state->operation_type);
}
