/*
 * thread_aio: every operation goes to the pure-C thread pool (pool.c).
 *
 * Relies on: pool.c, completion.c (the pool's hand-over, cancel and close).
 */
#include "core.h"

#include <errno.h>

static int
thread_open(struct context *ctx)
{
    ctx->pool = pool_create(ctx->wake_fd, ctx->pool_size);
    if (ctx->pool == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}

static int
thread_start(struct context *ctx, struct request *req)
{
    return pool_enqueue(ctx->pool, req);
}

static int
thread_flush(struct context *ctx)
{
    return 0; /* pool_enqueue already woke a worker */
}

static int
thread_reap(struct context *ctx, int min_wait, int64_t timeout_ns)
{
    return context_take_pool_done(ctx);
}

static bool
thread_cancel(struct context *ctx, struct request *req)
{
    return context_cancel_in_pool(ctx, req);
}

static void
thread_close(struct context *ctx)
{
    context_close_pool(ctx);
}

static void
thread_abandon(struct context *ctx)
{
    pool_abandon(ctx->pool);
    ctx->pool = NULL;
}

const struct backend thread_backend = {
    .name = "thread_aio",
    .open = thread_open,
    .close = thread_close,
    .abandon = thread_abandon,
    .start = thread_start,
    .flush = thread_flush,
    .reap = thread_reap,
    .cancel = thread_cancel,
    .runs_callbacks_unpumped = true,
};
