/*
 * Lifecycle: opening a context's resources, rebuilding them in a forked
 * child, refusing a closed context, tearing down.
 *
 * Relies on: completion.c (teardown delivers what is pending), forks.c (the
 * fork counter), request.c, wakeup.h.
 */
#include "context.h"
#include "compat.h"
#include "wakeup.h"


int
context_open(struct context *ctx)
{
    ctx->requests = PyMem_RawCalloc(ctx->max_requests, sizeof(struct request));
    if (ctx->requests == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    ctx->free = NULL;
    for (unsigned i = ctx->max_requests; i-- > 0;) {
        ctx->requests[i].next = ctx->free;
        ctx->free = &ctx->requests[i];
    }
    ctx->in_flight = 0;
    request_list_init(&ctx->completed);
    int ret = wakeup_open(&ctx->eventfd, &ctx->wake_fd);
    if (ret < 0) {
        raise_os_error(-ret);
        goto err_free_requests;
    }
    ret = ctx->backend->open(ctx);
    if (ret < 0) {
        if (!PyErr_Occurred()) {
            raise_os_error(-ret);
        }
        goto err_close_wakeup;
    }
    ctx->fork_generation = aio_fork_generation;
    ctx->closed = false;
    return 0;

err_close_wakeup:
    wakeup_close(&ctx->eventfd, &ctx->wake_fd);
err_free_requests:
    PyMem_RawFree(ctx->requests);
    ctx->requests = NULL;
    return -1;
}

/* In a forked child: forget everything shared with the parent, then rebuild. */
static int
context_rebuild_after_fork(struct context *ctx)
{
    ctx->backend->abandon(ctx);
    /* The parent owns its requests; here they are copies nobody will finish. */
    for (unsigned i = 0; i < ctx->max_requests; i++) {
        if (ctx->requests[i].state != REQ_FREE) {
            request_drop_references(&ctx->requests[i]);
        }
    }
    request_table_free(ctx->requests, ctx->max_requests);
    ctx->requests = NULL;
    wakeup_close(&ctx->eventfd, &ctx->wake_fd);
    Py_CLEAR(ctx->loop);
    Py_CLEAR(ctx->call_soon);
    ctx->streak_started_ns = 0;
    ctx->unclocked_work = 0;
    ctx->budget_spent = false;
    ctx->flush_scheduled = false;
    ctx->closed = true;
    return context_open(ctx);
}

/* Every method starts here: closed contexts refuse, forked ones rebuild. */
int
context_check_usable(struct context *ctx)
{
    if (ctx->closed) {
        PyErr_SetString(PyExc_RuntimeError, "Context is closed");
        return -1;
    }
    if (ctx->fork_generation != aio_fork_generation) {
        return context_rebuild_after_fork(ctx);
    }
    return 0;
}

void
context_teardown(struct context *ctx, bool run_callbacks)
{
    if (ctx->closed) {
        return;
    }
    ctx->closed = true;
    if (ctx->fork_generation != aio_fork_generation) {
        ctx->backend->abandon(ctx);
        for (unsigned i = 0; i < ctx->max_requests; i++) {
            if (ctx->requests[i].state != REQ_FREE) {
                request_drop_references(&ctx->requests[i]);
            }
        }
    }
    else {
        /* Moves every request still pending onto ctx->completed. */
        ctx->backend->close(ctx);
        if (run_callbacks) {
            context_dispatch(ctx, -1);
        }
        else {
            struct request *req;
            while ((req = request_list_pop(&ctx->completed)) != NULL) {
                if (!req->owner_is_future && req->owner != NULL) {
                    PyObject *callback = operation_finish(req->owner, req);
                    Py_XDECREF(callback);
                }
                else {
                    fs_discard(req);
                }
                request_release(ctx, req);
            }
        }
    }
    if (ctx->in_flight == 0) {
        request_table_free(ctx->requests, ctx->max_requests);
    }
    /* else a backend could not reclaim some request from the kernel: leaking
     * the table is safer than letting the kernel write into freed memory. */
    ctx->requests = NULL;
    ctx->free = NULL;
    wakeup_close(&ctx->eventfd, &ctx->wake_fd);
}
