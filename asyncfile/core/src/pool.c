/*
 * A thread pool in pure C.  Workers never take the GIL: they run a request's
 * system calls, push it on the done list and signal the wake-up (wakeup.h) only
 * when that list goes from empty to non-empty; whoever drains the wake-up drains
 * the list.
 *
 * The pool starts a worker when a request arrives and none is idle, up to
 * max_threads; a worker idle for IDLE_EXIT_SECONDS exits.  Workers are detached:
 * pool_destroy waits until the count of live workers drops to zero.
 */
#include "core.h"
#include "wakeup.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define WORKER_STACK_SIZE ((size_t)256 << 10)
#define IDLE_EXIT_SECONDS 10

struct pool {
    pthread_mutex_t lock;
    pthread_cond_t work_ready;   /* signalled when queue gains a request */
    pthread_cond_t all_exited;   /* signalled when threads drops to zero */
    struct request_list queue;
    struct request_list done;
    unsigned threads;
    unsigned idle;
    unsigned queued;             /* requests on `queue` */
    unsigned max_threads;
    bool stopping;
    int wake_fd;
};

static bool
wait_for_work(struct pool *pool)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += IDLE_EXIT_SECONDS;
    while (pool->queue.head == NULL && !pool->stopping) {
        pool->idle++;
        int ret = pthread_cond_timedwait(&pool->work_ready, &pool->lock, &deadline);
        pool->idle--;
        if (ret == ETIMEDOUT && pool->queue.head == NULL) {
            return false;
        }
    }
    return pool->queue.head != NULL;
}

static void *
worker_main(void *arg)
{
    struct pool *pool = arg;
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);

    pthread_mutex_lock(&pool->lock);
    while (wait_for_work(pool)) {
        struct request *req = request_list_pop(&pool->queue);
        pool->queued--;
        req->state = REQ_RUNNING;
        pthread_mutex_unlock(&pool->lock);

        request_perform_in_worker(req, &pool->stopping);

        pthread_mutex_lock(&pool->lock);
        bool was_empty = pool->done.head == NULL;
        request_list_push(&pool->done, req);
        if (was_empty) {
            /* Under the lock, so pool_destroy cannot return (and the context
             * close the wake-up) between the push and the write. */
            wakeup_signal(pool->wake_fd);
        }
    }
    pool->threads--;
    if (pool->threads == 0) {
        pthread_cond_broadcast(&pool->all_exited);
    }
    pthread_mutex_unlock(&pool->lock);
    return NULL;
}

struct pool *
pool_create(int wake_fd, unsigned max_threads)
{
    struct pool *pool = PyMem_RawCalloc(1, sizeof(*pool));
    if (pool == NULL) {
        return NULL;
    }
    pthread_mutex_init(&pool->lock, NULL);
    pthread_cond_init(&pool->work_ready, NULL);
    pthread_cond_init(&pool->all_exited, NULL);
    request_list_init(&pool->queue);
    request_list_init(&pool->done);
    pool->max_threads = max_threads > 0 ? max_threads : 1;
    pool->wake_fd = wake_fd;
    return pool;
}

/* Called with the lock held. */
static int
start_worker(struct pool *pool)
{
    pthread_attr_t attr;
    pthread_t thread;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, WORKER_STACK_SIZE);
    int ret = pthread_create(&thread, &attr, worker_main, pool);
    pthread_attr_destroy(&attr);
    if (ret == 0) {
        pool->threads++;
    }
    return -ret;
}

int
pool_enqueue(struct pool *pool, struct request *req)
{
    int ret = 0;
    pthread_mutex_lock(&pool->lock);
    req->state = REQ_QUEUED;
    request_list_push(&pool->queue, req);
    pool->queued++;
    /* An idle worker already signalled may not have woken yet: only as many
     * requests as there are idle workers are theirs; beyond, start another. */
    if (pool->queued <= pool->idle) {
        pthread_cond_signal(&pool->work_ready);
    }
    else if (pool->threads < pool->max_threads) {
        ret = start_worker(pool);
        if (ret < 0 && pool->threads > 0) {
            ret = 0; /* the running workers will get to it */
        }
        if (ret < 0) {
            request_list_remove(&pool->queue, req);
            pool->queued--;
        }
    }
    else if (pool->idle > 0) {
        pthread_cond_signal(&pool->work_ready);
    }
    pthread_mutex_unlock(&pool->lock);
    return ret;
}

bool
pool_dequeue(struct pool *pool, struct request *req)
{
    pthread_mutex_lock(&pool->lock);
    bool removed = req->state == REQ_QUEUED && request_list_remove(&pool->queue, req);
    pool->queued -= removed;
    pthread_mutex_unlock(&pool->lock);
    return removed;
}

int
pool_take_done(struct pool *pool, struct request_list *out)
{
    int count = 0;
    pthread_mutex_lock(&pool->lock);
    struct request *req;
    while ((req = request_list_pop(&pool->done)) != NULL) {
        request_list_push(out, req);
        count++;
    }
    pthread_mutex_unlock(&pool->lock);
    return count;
}

unsigned
pool_threads(struct pool *pool)
{
    pthread_mutex_lock(&pool->lock);
    unsigned threads = pool->threads;
    pthread_mutex_unlock(&pool->lock);
    return threads;
}

void
pool_destroy(struct pool *pool, struct request_list *unstarted,
             struct request_list *finished)
{
    pthread_mutex_lock(&pool->lock);
    /* Pairs with the acquire load in wait_until_ready (request.c). */
    __atomic_store_n(&pool->stopping, true, __ATOMIC_RELEASE);
    struct request *req;
    while ((req = request_list_pop(&pool->queue)) != NULL) {
        request_list_push(unstarted, req);
    }
    pool->queued = 0;
    pthread_cond_broadcast(&pool->work_ready);
    while (pool->threads > 0) {
        pthread_cond_wait(&pool->all_exited, &pool->lock);
    }
    while ((req = request_list_pop(&pool->done)) != NULL) {
        request_list_push(finished, req);
    }
    pthread_mutex_unlock(&pool->lock);
    pthread_cond_destroy(&pool->work_ready);
    pthread_cond_destroy(&pool->all_exited);
    pthread_mutex_destroy(&pool->lock);
    PyMem_RawFree(pool);
}

void
pool_abandon(struct pool *pool)
{
    /* The workers were not copied by fork and the lock may be held by one of
     * them in the parent: never touch the lock, just forget the memory. */
    PyMem_RawFree(pool);
}
