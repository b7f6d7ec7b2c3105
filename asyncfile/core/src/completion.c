/*
 * Completion: delivering finished requests to their owners.
 *
 * Owns the completed list's consumers: context_complete (backends call it),
 * the pool's hand-over, context_dispatch (a Waiter is settled, an Operation's
 * callback runs), and the dispatcher thread that runs caio's callbacks when no
 * event loop pumps the context.
 * Relies on: request.c, operation.c, waiter.c, pool.c (core.h), wakeup.h.
 * The backends rely on it (context_complete and the pool's hand-over), never
 * the other way: which backend needs the dispatcher is its table's to say
 * (runs_callbacks_unpumped).
 */
#include "context.h"
#include "compat.h"
#include "wakeup.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>

/* ---------------------------------------------------------------------------
 * Completion
 */

void
context_complete(struct context *ctx, struct request *req, int64_t result)
{
    req->result = result;
    req->state = REQ_COMPLETED;
    request_settle(req);
    request_list_push(&ctx->completed, req);
}

/* The outcome of `req` for its waiter: a value or an error (new references;
 * an error making the value becomes the error). */
static void
request_outcome(aio_state *state, struct request *req, PyObject **value,
                PyObject **error)
{
    *value = *error = NULL;
    if (req->result < 0) {
        *error = request_error(state, req);
    }
    else {
        *value = request_value(state, req);
    }
    if (*value == NULL && *error == NULL) {
        *error = fetch_exception();
    }
}

int
context_take_pool_done(struct context *ctx)
{
    struct request_list done;
    request_list_init(&done);
    int count = pool_take_done(ctx->pool, &done);
    struct request *req;
    while ((req = request_list_pop(&done)) != NULL) {
        context_complete(ctx, req, req->result);
    }
    return count;
}

bool
context_cancel_in_pool(struct context *ctx, struct request *req)
{
    if (!pool_dequeue(ctx->pool, req)) {
        return false; /* a worker runs it already */
    }
    context_complete(ctx, req, -ECANCELED);
    return true;
}

void
context_close_pool(struct context *ctx)
{
    struct request_list unstarted, finished;
    request_list_init(&unstarted);
    request_list_init(&finished);
    Py_BEGIN_ALLOW_THREADS
    pool_destroy(ctx->pool, &unstarted, &finished);
    Py_END_ALLOW_THREADS
    ctx->pool = NULL;
    struct request *req;
    while ((req = request_list_pop(&finished)) != NULL) {
        context_complete(ctx, req, req->result);
    }
    while ((req = request_list_pop(&unstarted)) != NULL) {
        context_complete(ctx, req, -ECANCELED);
    }
}

/* Deliver up to `max` completions (all when max < 0); returns how many. */
int
context_dispatch(struct context *ctx, int max)
{
    int count = 0;
    struct request *req;
    while ((max < 0 || count < max) &&
           (req = request_list_pop(&ctx->completed)) != NULL) {
        /* Take the owner out of the slot before running Python code, which may
         * submit again and reuse the slot. */
        PyObject *owner = req->owner;
        req->owner = NULL;
        if (owner != NULL && req->owner_is_future) {
            PyObject *value = NULL, *error = NULL;
            if (waiter_is_pending(owner)) {
                request_outcome(ctx->state, req, &value, &error);
            }
            else {
                fs_discard(req); /* nobody takes the descriptor it opened */
            }
            request_release(ctx, req);
            /* A task woken here that dispatches again (close()) is a task
             * running: the waiters it settles must schedule their callbacks. */
            bool run_now = ctx->run_callbacks_now;
            ctx->run_callbacks_now = false;
            waiter_settle(owner, value, error, run_now);
            ctx->run_callbacks_now = run_now;
            Py_DECREF(owner);
        }
        else if (owner != NULL) {
            /* The operation copies the outcome before the slot is released. */
            PyObject *callback = operation_finish(owner, req);
            int64_t result = req->result;
            request_release(ctx, req);
            if (callback != NULL) {
                PyObject *arg = PyLong_FromLongLong(result);
                PyObject *ret = arg == NULL ? NULL : PyObject_CallOneArg(callback, arg);
                if (ret == NULL) {
                    PyErr_WriteUnraisable(callback);
                }
                Py_XDECREF(ret);
                Py_XDECREF(arg);
                Py_DECREF(callback);
            }
            Py_DECREF(owner);
        }
        else {
            request_release(ctx, req);
        }
        count++;
    }
    return count;
}

/* ---------------------------------------------------------------------------
 * Dispatching callbacks without an event loop (thread_aio's raw API)
 *
 * caio's thread_aio calls callbacks on its own: nobody pumps it.  The workers
 * never take the GIL, so a dispatcher thread waits on the eventfd and takes the
 * GIL only to run callbacks.  It holds a reference to the context while
 * operations are in flight and exits when none are left.
 */

static void *
dispatcher_main(void *arg)
{
    struct context *ctx = arg;
    int fd = ctx->eventfd;
    for (;;) {
        struct pollfd ready = {.fd = fd, .events = POLLIN};
        if (poll(&ready, 1, 1000) < 0 && errno != EINTR) {
            break;
        }
        PyGILState_STATE gil = PyGILState_Ensure();
        bool done = ctx->closed;
        if (!done) {
            (void)wakeup_drain(ctx->eventfd);
            ctx->backend->reap(ctx, 0, 0);
            context_dispatch(ctx, -1);
            done = ctx->closed || ctx->in_flight == 0;
        }
        if (done) {
            ctx->dispatcher_running = false;
            Py_DECREF((PyObject *)ctx);
            PyGILState_Release(gil);
            return NULL;
        }
        fd = ctx->eventfd;
        PyGILState_Release(gil);
    }
    PyGILState_STATE gil = PyGILState_Ensure();
    ctx->dispatcher_running = false;
    Py_DECREF((PyObject *)ctx);
    PyGILState_Release(gil);
    return NULL;
}

int
ensure_dispatcher(struct context *ctx)
{
    if (ctx->dispatcher_running || ctx->loop != NULL ||
        !ctx->backend->runs_callbacks_unpumped) {
        return 0;
    }
    pthread_attr_t attr;
    pthread_t thread;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    Py_INCREF((PyObject *)ctx);
    int ret = pthread_create(&thread, &attr, dispatcher_main, ctx);
    pthread_attr_destroy(&attr);
    if (ret != 0) {
        Py_DECREF((PyObject *)ctx);
        raise_os_error(ret);
        return -1;
    }
    ctx->dispatcher_running = true;
    return 0;
}
