/*
 * The descriptor that wakes whoever waits for completions (the event loop's
 * reader, or the dispatcher thread): an eventfd on Linux; a non-blocking pipe
 * in the portable build (macOS has no eventfd).  Each signal is one 8-byte
 * write, so both count the signals not yet drained; a full pipe or counter
 * refuses a signal with EAGAIN, harmlessly, since its reader wakes anyway.
 */
#ifndef ASYNCFILE_WAKEUP_H
#define ASYNCFILE_WAKEUP_H

#include "core.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <unistd.h>
#ifndef ASYNCFILE_PORTABLE
#include <sys/eventfd.h>
#endif

#ifdef ASYNCFILE_PORTABLE
static inline int
set_nonblocking_cloexec(int fd)
{
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 ||
        fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
        return -errno;
    }
    return 0;
}
#endif

/* Open the wake-up: 0 with both ends set (the same fd for an eventfd), or
 * -errno with neither open.  macOS has no pipe2(), so the portable build sets
 * the flags after pipe(): a fork and exec in that gap would leak the pipe into
 * the new program, which only keeps it open. */
static inline int
wakeup_open(int *read_fd, int *write_fd)
{
#ifdef ASYNCFILE_PORTABLE
    int fds[2];
    if (pipe(fds) < 0) {
        return -errno;
    }
    int ret = set_nonblocking_cloexec(fds[0]);
    if (ret == 0) {
        ret = set_nonblocking_cloexec(fds[1]);
    }
    if (ret < 0) {
        close(fds[0]);
        close(fds[1]);
        return ret;
    }
    *read_fd = fds[0];
    *write_fd = fds[1];
#else
    int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (fd < 0) {
        return -errno;
    }
    *read_fd = *write_fd = fd;
#endif
    return 0;
}

/* Close both ends (once each) and mark them closed. */
static inline void
wakeup_close(int *read_fd, int *write_fd)
{
    if (*write_fd >= 0 && *write_fd != *read_fd) {
        close(*write_fd);
    }
    if (*read_fd >= 0) {
        close(*read_fd);
    }
    *read_fd = *write_fd = -1;
}

static inline void
wakeup_signal(int write_fd)
{
    uint64_t one = 1;
    ssize_t ret;
    do {
        ret = write(write_fd, &one, sizeof(one));
    } while (ret < 0 && errno == EINTR);
    /* EAGAIN: the reader has signals pending and wakes anyway. */
}

/* Take every pending signal: how many there were (0 when none), or -errno. */
static inline int64_t
wakeup_drain(int read_fd)
{
#ifdef ASYNCFILE_PORTABLE
    uint64_t signals[64];
    int64_t count = 0;
    for (;;) {
        ssize_t ret = read(read_fd, signals, sizeof(signals));
        if (ret < 0 && errno == EINTR) {
            continue;
        }
        if (ret < 0) {
            return errno == EAGAIN || count > 0 ? count : -errno;
        }
        count += ret / (ssize_t)sizeof(signals[0]);
        if ((size_t)ret < sizeof(signals)) {
            return count;
        }
    }
#else
    uint64_t count;
    ssize_t ret;
    do {
        ret = read(read_fd, &count, sizeof(count));
    } while (ret < 0 && errno == EINTR);
    if (ret < 0) {
        return errno == EAGAIN ? 0 : -errno;
    }
    return (int64_t)count;
#endif
}

#endif /* ASYNCFILE_WAKEUP_H */
