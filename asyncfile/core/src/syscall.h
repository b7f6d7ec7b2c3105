/*
 * Thin wrappers over the kernel interfaces the backends use.  Each returns the
 * system call's non-negative result or -errno, never touches errno's meaning for
 * the caller, and retries EINTR where a retry is always safe.
 */
#ifndef ASYNCFILE_SYSCALL_H
#define ASYNCFILE_SYSCALL_H

#include <errno.h>
#include <linux/aio_abi.h>
#include <linux/io_uring.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

static inline long
negative_errno(long ret)
{
    return ret < 0 ? -errno : ret;
}

static inline int
sys_io_uring_setup(unsigned entries, struct io_uring_params *params)
{
    return (int)negative_errno(syscall(__NR_io_uring_setup, entries, params));
}

static inline int
sys_io_uring_enter(int ring_fd, unsigned to_submit, unsigned min_complete,
                   unsigned flags)
{
    return (int)negative_errno(syscall(__NR_io_uring_enter, ring_fd, to_submit,
                                       min_complete, flags, NULL, _NSIG / 8));
}

static inline int
sys_io_uring_register(int ring_fd, unsigned opcode, const void *arg,
                      unsigned nr_args)
{
    return (int)negative_errno(
        syscall(__NR_io_uring_register, ring_fd, opcode, arg, nr_args));
}

static inline int
sys_io_setup(unsigned nr_events, aio_context_t *ctx)
{
    return (int)negative_errno(syscall(__NR_io_setup, nr_events, ctx));
}

static inline int
sys_io_destroy(aio_context_t ctx)
{
    return (int)negative_errno(syscall(__NR_io_destroy, ctx));
}

static inline int
sys_io_submit(aio_context_t ctx, long nr, struct iocb **iocbs)
{
    return (int)negative_errno(syscall(__NR_io_submit, ctx, nr, iocbs));
}

static inline int
sys_io_getevents(aio_context_t ctx, long min_nr, long nr,
                 struct io_event *events, struct timespec *timeout)
{
    long ret;
    do {
        ret = negative_errno(
            syscall(__NR_io_getevents, ctx, min_nr, nr, events, timeout));
    } while (ret == -EINTR);
    return (int)ret;
}

static inline int
sys_io_cancel(aio_context_t ctx, struct iocb *iocb, struct io_event *result)
{
    return (int)negative_errno(syscall(__NR_io_cancel, ctx, iocb, result));
}

#endif /* ASYNCFILE_SYSCALL_H */
