/*
 * Loop binding: a context serving one event loop.
 *
 * Owns bind(), the eventfd's reader callback (on_ready), the end of a loop
 * turn (_end_turn: a batched flush, the inline budget's reset), and the one
 * answer to "does this context serve the loop running now in this process"
 * (context_serves_running_loop) for the C paths and the Python adapters.
 * Relies on: submission.c (start_overflow), lifecycle.c, completion.c,
 * forks.c.
 */
#include "context.h"
#include "compat.h"
#include "wakeup.h"

#include <string.h>

/* ---------------------------------------------------------------------------
 * Serving a loop
 */

CONTEXT_DOC(context_bind__doc__,
"bind($self, loop, /)\n--\n\n"
"Serve the awaitable methods on `loop` (the caller registers on_ready as the\n"
"eventfd's reader).");

PyObject *
context_bind(PyObject *self, PyObject *loop)
{
    struct context *ctx = CONTEXT(self);
    if (context_check_usable(ctx) < 0) {
        return NULL;
    }
    if (ctx->dispatcher_running) {
        PyErr_SetString(PyExc_RuntimeError,
                        "the context already runs callbacks without a loop");
        return NULL;
    }
    PyObject *call_soon = PyObject_GetAttr(loop, ctx->state->str_call_soon);
    PyObject *end_turn = PyObject_GetAttrString(self, "_end_turn");
    if (call_soon == NULL || end_turn == NULL) {
        Py_XDECREF(call_soon);
        Py_XDECREF(end_turn);
        return NULL;
    }
    Py_XSETREF(ctx->loop, Py_NewRef(loop));
    Py_XSETREF(ctx->call_soon, call_soon);
    Py_XSETREF(ctx->end_turn, end_turn);
    ctx->turn_scheduled = false;
    ctx->known_fd = -1;
    ctx->flush_scheduled = false;
    ctx->streak_started_ns = 0;
    ctx->unclocked_work = 0;
    ctx->budget_spent = false;
    Py_RETURN_NONE;
}

/* Schedule the end of this loop turn, where a bound context's budget resets
 * and what was left is delivered. */
static void
end_turn_soon(struct context *ctx)
{
    if (ctx->call_soon != NULL && schedule_end_of_turn(ctx) < 0) {
        PyErr_WriteUnraisable((PyObject *)ctx);
    }
}

/* Deliver the completions from a callback of the loop: with no task
 * running, the waiters wake their tasks on the spot.  They share the loop
 * turn's budget with the inline completions (INLINE_BUDGET_NS, from the first
 * of either; the end of the turn resets it): a woken task that calls again may
 * bring more completions in (io_uring answers a filesystem call at submission,
 * and the reap that finds it takes every other completion too), so while the
 * kernel keeps up, delivering until none was left held the loop as long as
 * the work lasted (a cold stat of 10,000 files: 23 ms).  At least one is
 * delivered; what is left waits for the next turn. */
static void
dispatch_from_loop(struct context *ctx)
{
    if (ctx->completed.head == NULL) {
        return;
    }
    PyObject *task = ctx->loop == NULL
                         ? NULL
                         : PyObject_CallOneArg(ctx->state->current_task, ctx->loop);
    if (task == NULL && PyErr_Occurred()) {
        PyErr_WriteUnraisable((PyObject *)ctx);
    }
    ctx->run_callbacks_now = task == Py_None;
    Py_XDECREF(task);
    if (ctx->streak_started_ns == 0) {
        ctx->streak_started_ns = monotonic_ns();
        end_turn_soon(ctx);
    }
    while (context_dispatch(ctx, 1) > 0 &&
           monotonic_ns() - ctx->streak_started_ns < INLINE_BUDGET_NS) {
    }
    ctx->run_callbacks_now = false;
    if (ctx->completed.head != NULL) {
        ctx->budget_spent = true;
        end_turn_soon(ctx);
    }
}

/* Deliver the completions, then start the calls that waited for the slots
 * they freed (and deliver those that completed at once).  Both loop callbacks
 * deliver: the end of the turn what the budget left, so it must start the
 * waiting calls too, or with nothing left in flight to wake the reader
 * callback they would wait forever. */
static void
deliver_from_loop(struct context *ctx)
{
    dispatch_from_loop(ctx);
    if (ctx->overflow != NULL && PyList_GET_SIZE(ctx->overflow) > 0) {
        start_overflow(ctx);
        dispatch_from_loop(ctx);
    }
}

CONTEXT_DOC(context_on_ready__doc__,
"on_ready($self, /)\n--\n\n"
"Deliver every completion: the eventfd's reader callback.");

PyObject *
context_on_ready(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    struct context *ctx = CONTEXT(self);
    if (ctx->closed || ctx->fork_generation != aio_fork_generation) {
        Py_RETURN_NONE;
    }
    (void)wakeup_drain(ctx->eventfd);
    int ret = ctx->backend->reap(ctx, 0, 0);
    deliver_from_loop(ctx);
    if (ret < 0 && !PyErr_Occurred()) {
        return raise_os_error(-ret);
    }
    if (PyErr_Occurred()) {
        return NULL;
    }
    Py_RETURN_NONE;
}

PyObject *
context_end_turn(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    struct context *ctx = CONTEXT(self);
    ctx->turn_scheduled = false;
    ctx->known_fd = -1;
    ctx->streak_started_ns = 0;
    ctx->unclocked_work = 0;
    ctx->budget_spent = false;
    if (ctx->flush_scheduled) {
        ctx->flush_scheduled = false;
        if (!ctx->closed && ctx->fork_generation == aio_fork_generation) {
            ctx->backend->flush(ctx);
        }
    }
    /* What the turn's budget left, and a submission the kernel refused,
     * which completed without a wake-up. */
    deliver_from_loop(ctx);
    Py_RETURN_NONE;
}

#if PY_VERSION_HEX < 0x030C0000
/* Before 3.12, CPython's _asyncio keeps a thread's running loop in the
 * thread state's dict, under this key, as a holder of the loop and of the
 * pid that set it (so that a forked child does not see its parent's loop);
 * asyncio._get_running_loop() makes a getpid() system call to compare.  The
 * holder's layout is fixed in those releases: reading it here, against the
 * pid noted at fork, is the same answer without the system call. */
typedef struct {
    PyObject_HEAD
    PyObject *loop;
    pid_t pid;
} running_loop_holder;

static PyObject *running_loop_key;        /* "__asyncio_running_event_loop__" */
static PyTypeObject *running_loop_holder_type; /* _asyncio's, once seen */

/* The running loop of this thread (borrowed, or NULL for none) in `*loop`:
 * 1 when the thread state answered, 0 when asyncio must be asked (no C
 * _asyncio, or a holder this code does not know), -1 on error. */
static int
running_loop_from_thread_state(PyObject **loop)
{
    PyObject *dict = PyThreadState_GetDict();
    if (dict == NULL) {
        return 0;
    }
    PyObject *holder = PyDict_GetItemWithError(dict, running_loop_key);
    if (holder == NULL) {
        return PyErr_Occurred() ? -1 : 0;
    }
    if (Py_TYPE(holder) != running_loop_holder_type) {
        if (running_loop_holder_type != NULL ||
            strcmp(Py_TYPE(holder)->tp_name, "_RunningLoopHolder") != 0 ||
            Py_TYPE(holder)->tp_basicsize != (Py_ssize_t)sizeof(running_loop_holder)) {
            return 0;
        }
        running_loop_holder_type = Py_TYPE(holder); /* a static type: never freed */
    }
    running_loop_holder *held = (running_loop_holder *)holder;
    *loop = held->loop != Py_None && held->pid == aio_pid ? held->loop : NULL;
    return 1;
}
#endif

/* 1 if `ctx` serves the loop running now in this thread of this process: it
 * is open, was made (or rebuilt) after the last fork, and is bound to the
 * running loop; 0 if not, -1 on error.  The one answer to that question for
 * the C paths and the Python adapters (serves_running_loop()). */
int
context_serves_running_loop(struct context *ctx)
{
    if (ctx->closed || ctx->fork_generation != aio_fork_generation || ctx->loop == NULL) {
        return 0;
    }
#if PY_VERSION_HEX < 0x030C0000
    PyObject *loop = NULL;
    int found = running_loop_from_thread_state(&loop);
    if (found != 0) {
        return found < 0 ? -1 : loop == ctx->loop;
    }
#endif
    /* From 3.12, asyncio answers from the thread's state, as cheaply. */
    PyObject *running = PyObject_CallNoArgs(ctx->state->get_running_loop);
    if (running == NULL) {
        return -1;
    }
    Py_DECREF(running); /* only its identity is needed */
    return running == ctx->loop;
}

CONTEXT_DOC(context_serves_running_loop__doc__,
"serves_running_loop($self, /)\n--\n\n"
"Whether the context is open, made (or rebuilt) after the last fork, and\n"
"bound to the event loop running now in this thread.");

PyObject *
context_serves_running_loop_method(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    int serving = context_serves_running_loop(CONTEXT(self));
    return serving < 0 ? NULL : PyBool_FromLong(serving);
}

PyDoc_STRVAR(running_loop__doc__,
"running_loop($module, /)\n--\n\n"
"asyncio._get_running_loop(): the event loop running in this thread, or\n"
"None; the same answer without its getpid() system call before 3.12.");

static PyObject *
running_loop(PyObject *module, PyObject *Py_UNUSED(ignored))
{
#if PY_VERSION_HEX < 0x030C0000
    PyObject *loop = NULL;
    int found = running_loop_from_thread_state(&loop);
    if (found != 0) {
        return found < 0 ? NULL : Py_NewRef(loop != NULL ? loop : Py_None);
    }
#endif
    aio_state *state = PyModule_GetState(module);
    return PyObject_CallNoArgs(state->get_running_loop);
}

static PyMethodDef loopbinding_functions[] = {
    {"running_loop", running_loop, METH_NOARGS, running_loop__doc__},
    {NULL, NULL, 0, NULL},
};

int
loopbinding_module_init(PyObject *module)
{
#if PY_VERSION_HEX < 0x030C0000
    if (running_loop_key == NULL &&
        (running_loop_key = PyUnicode_InternFromString("__asyncio_running_event_loop__")) ==
            NULL) {
        return -1;
    }
#endif
    return PyModule_AddFunctions(module, loopbinding_functions);
}
