/*
 * Filesystem calls: open, close, stat, rename, unlink, mkdir, symlink, link,
 * truncate as requests of the core.
 *
 * io_uring runs those its kernel has (uring.c probes each opcode); everything
 * else, and every call on the other native backends, runs fs_perform on a pool
 * worker, without the GIL.  The Python layer (asyncfile/_filesystem.py) passes
 * paths as bytes (os.fsencode), which the request holds until completion, and
 * turns an error into the OSError os would raise, with its file names.
 * The context methods that start these calls are fs_methods.c's.
 * Relies on: nothing of the core but the request (core.h).
 */
#include "core.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#ifndef ASYNCFILE_PORTABLE
#include <sys/sendfile.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#endif

/* ---------------------------------------------------------------------------
 * The blocking system calls
 */

static const char *
path_of(PyObject *path)
{
    return path != NULL ? PyBytes_AS_STRING(path) : "";
}

/* Fill the request's stat buffer for descriptor `fd` itself. */
static int
fd_stat_call(struct request *req, int fd)
{
#ifdef ASYNCFILE_HAVE_STATX
    return statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &req->stx);
#else
    return fstat(fd, &req->st);
#endif
}

static int64_t
stat_call(struct request *req)
{
    if (req->path == NULL) {
        return fd_stat_call(req, req->fd);
    }
#ifdef ASYNCFILE_HAVE_STATX
    return statx(req->fd, path_of(req->path), req->flags, STATX_BASIC_STATS, &req->stx);
#else
    return fstatat(req->fd, path_of(req->path), &req->st, req->flags);
#endif
}

/* openat(2), then the stat a file object asks of its new descriptor; a
 * descriptor that cannot be stat'ed is closed, with stat's errno. */
static int64_t
open_file_call(struct request *req)
{
    int fd = openat(req->fd, path_of(req->path), req->flags | O_CLOEXEC, (mode_t)req->mode);
    if (fd < 0 || fd_stat_call(req, fd) == 0) {
        return fd;
    }
    int error = errno;
    close(fd);
    errno = error;
    return -1;
}

uint64_t
fs_fallocate_length(const struct request *req)
{
    return ((uint64_t)(uint32_t)req->fd2 << 32) | req->mode;
}

/* posix_fallocate(3) as os.posix_fallocate calls it: it reports an error by
 * its value, not errno; macOS has none (os has none there either). */
static int64_t
fallocate_call(struct request *req)
{
#ifdef __APPLE__
    errno = EOPNOTSUPP;
    return -1;
#else
    int error = posix_fallocate(req->fd, (off_t)req->offset,
                                (off_t)fs_fallocate_length(req));
    errno = error;
    return error != 0 ? -1 : 0;
#endif
}

/* readlinkat(2) into memory of the request's own (`bounce`, freed with the
 * request), as large as os.readlink's buffer. */
static int64_t
readlink_call(struct request *req)
{
    if (req->bounce == NULL) {
        req->bounce = malloc(PATH_MAX);
        if (req->bounce == NULL) {
            errno = ENOMEM;
            return -1;
        }
    }
    return readlinkat(req->fd, path_of(req->path), req->bounce, PATH_MAX);
}

static int64_t
utime_call(struct request *req)
{
    const struct timespec *times =
        req->path2 != NULL ? (const struct timespec *)PyBytes_AS_STRING(req->path2) : NULL;
    if (req->path == NULL) {
        return futimens(req->fd, times);
    }
    return utimensat(req->fd, path_of(req->path), times, req->flags);
}

/* One getdents64(2) of a directory into memory of the request's own
 * (`bounce`): a few hundred names at a time, so that the loop turns them into
 * Python objects in short steps while the next read waits on the pool. */
#define GETDENTS_BUFFER ((size_t)32 << 10)
#ifdef ASYNCFILE_PORTABLE
#define GETDENTS_AVAILABLE 0
#else
#define GETDENTS_AVAILABLE 1
#endif

static int64_t
getdents_call(struct request *req)
{
#ifdef ASYNCFILE_PORTABLE
    (void)req;
    errno = ENOSYS; /* macOS has no getdents64: the Python layer lists on threads */
    return -1;
#else
    if (req->bounce == NULL) {
        req->bounce = malloc(GETDENTS_BUFFER);
        if (req->bounce == NULL) {
            errno = ENOMEM;
            return -1;
        }
    }
    return syscall(SYS_getdents64, req->fd, req->bounce, GETDENTS_BUFFER);
#endif
}

static int64_t
sendfile_call(struct request *req)
{
#if defined(__linux__) && !defined(ASYNCFILE_PORTABLE)
    off_t offset = (off_t)req->offset;
    return sendfile(req->fd, req->fd2, req->flags & 1 ? NULL : &offset, req->mode);
#else
    (void)req;
    errno = ENOSYS; /* the BSDs' sendfile differs: the Python layer uses os's */
    return -1;
#endif
}

static int64_t
fs_call(struct request *req)
{
    const char *path = path_of(req->path), *path2 = path_of(req->path2);
    switch (req->opcode) {
    case OP_OPENAT:
        return openat(req->fd, path, req->flags | O_CLOEXEC, (mode_t)req->mode);
    case OP_OPENFILE:
        return open_file_call(req);
    case OP_CLOSE:
        return close(req->fd);
    case OP_STATX:
        return stat_call(req);
    case OP_RENAMEAT:
        return renameat(req->fd, path, req->fd2, path2);
    case OP_UNLINKAT:
        return unlinkat(req->fd, path, req->flags);
    case OP_MKDIRAT:
        return mkdirat(req->fd, path, (mode_t)req->mode);
    case OP_SYMLINKAT:
        return symlinkat(path, req->fd, path2);
    case OP_LINKAT:
        return linkat(req->fd, path, req->fd2, path2, req->flags);
    case OP_FTRUNCATE:
        return ftruncate(req->fd, (off_t)req->offset);
    case OP_TRUNCATE:
        return truncate(path, (off_t)req->offset);
    case OP_FALLOCATE:
        return fallocate_call(req);
    case OP_READLINK:
        return readlink_call(req);
    case OP_ACCESS:
        return faccessat(req->fd, path, (int)req->mode, req->flags);
    case OP_CHMOD:
        if (req->path == NULL) {
            return fchmod(req->fd, (mode_t)req->mode);
        }
        return fchmodat(req->fd, path, (mode_t)req->mode, req->flags);
    case OP_UTIME:
        return utime_call(req);
    case OP_STATVFS:
        if (req->path == NULL) {
            return fstatvfs(req->fd, &req->vfs);
        }
        return statvfs(path, &req->vfs);
    case OP_GETDENTS:
        return getdents_call(req);
    case OP_SENDFILE:
        return sendfile_call(req);
    default:
        errno = EINVAL;
        return -1;
    }
}

int64_t
fs_perform(struct request *req)
{
    int64_t ret;
    do {
        ret = fs_call(req);
        /* close(2) is never retried: Linux frees the descriptor even when it
         * reports EINTR, and another thread may have it by now. */
    } while (ret < 0 && errno == EINTR && req->opcode != OP_CLOSE);
    if (ret < 0) {
        return req->opcode == OP_CLOSE && errno == EINTR ? 0 : -errno;
    }
    bool counted = req->opcode == OP_OPENAT || req->opcode == OP_OPENFILE ||
                   req->opcode == OP_READLINK ||
                   req->opcode == OP_GETDENTS || req->opcode == OP_SENDFILE;
    return counted ? ret : 0;
}

#if defined(ASYNCFILE_HAVE_STATX) && defined(SYS_openat2) && defined(RESOLVE_CACHED)
/* A stat answered from the caches, on the loop: the path resolves from the
 * dentry cache alone (openat2 with RESOLVE_CACHED fails with EAGAIN rather
 * than read a directory), and the inode is on a block device's file system,
 * whose getattr reads no disk (AT_STATX_DONT_SYNC keeps a network file
 * system from asking its server, and its answer is not taken: a file system
 * without a device, major 0, goes to the ring or the pool).  Errors are left
 * to those too, to be reported as statx reports them. */
/* Set once openat2 or RESOLVE_CACHED turned out missing (a kernel before 5.12,
 * or valgrind, which does not know openat2): the pool answers every stat.
 * Touched with the GIL held. */
static bool resolve_cached_missing;

/* The errors an open answered from the caches reports as a blocking open
 * would: the rest (EAGAIN above all: not cached, or a lease to break; ENXIO:
 * a FIFO without a reader, for O_NONBLOCK) are left to the pool. */
static bool
open_error_is_final(int error)
{
    return error == ENOENT || error == ENOTDIR || error == EACCES || error == ELOOP ||
           error == ENAMETOOLONG || error == EISDIR;
}

/* An open answered from the caches, on the loop, as io_uring tries one at
 * submission: the path resolves from the dentry cache alone, and O_NONBLOCK
 * keeps the open itself from waiting (it is cleared once the file is known).
 * A creating or truncating open may write, and RESOLVE_CACHED refuses it; a
 * file other than a regular one or a directory (a FIFO waiting for a writer,
 * a terminal) is closed again and opened on the pool, as io opens it. */
static bool
open_file_inline(struct request *req)
{
    if (resolve_cached_missing || (req->flags & (O_CREAT | O_TRUNC)) ||
        (req->flags & O_TMPFILE) == O_TMPFILE) {
        return false;
    }
    struct open_how how = {
        .flags = (uint64_t)(unsigned)(req->flags | O_CLOEXEC | O_NONBLOCK),
        .resolve = RESOLVE_CACHED,
    };
    const char *path = PyBytes_AS_STRING(req->path);
    int fd, error = 0;
    bool usable = false;
    Py_BEGIN_ALLOW_THREADS
    fd = (int)syscall(SYS_openat2, req->fd, path, &how, sizeof(how));
    if (fd < 0) {
        error = errno;
    }
    else if (statx(fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC, STATX_BASIC_STATS,
                   &req->stx) == 0 &&
             (S_ISREG(req->stx.stx_mode) || S_ISDIR(req->stx.stx_mode))) {
        usable = (req->flags & O_NONBLOCK) || fcntl(fd, F_SETFL, req->flags) == 0;
    }
    if (fd >= 0 && !usable) {
        close(fd);
    }
    Py_END_ALLOW_THREADS
    if (fd < 0) {
        resolve_cached_missing = error == ENOSYS;
        if (!open_error_is_final(error)) {
            return false;
        }
        req->result = -error;
        return true;
    }
    if (!usable) {
        return false;
    }
    req->result = fd;
    return true;
}

bool
fs_complete_inline(struct request *req)
{
    if (req->opcode == OP_OPENFILE) {
        return open_file_inline(req);
    }
    if (req->opcode != OP_STATX) {
        return false;
    }
    int fd = req->fd;
    if (req->path != NULL) {
        if (resolve_cached_missing) {
            return false;
        }
        struct open_how how = {
            .flags = O_PATH | O_CLOEXEC |
                     ((req->flags & AT_SYMLINK_NOFOLLOW) ? O_NOFOLLOW : 0),
            .resolve = RESOLVE_CACHED,
        };
        fd = (int)syscall(SYS_openat2, req->fd, PyBytes_AS_STRING(req->path), &how,
                          sizeof(how));
        if (fd < 0) {
            /* EINVAL: a resolve flag this kernel does not know (the path
             * itself cannot make openat2 say EINVAL). */
            resolve_cached_missing = errno == ENOSYS || errno == EINVAL;
            return false;
        }
    }
    int ret = statx(fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC, STATX_BASIC_STATS,
                    &req->stx);
    if (fd != req->fd) {
        close(fd);
    }
    if (ret < 0 || req->stx.stx_dev_major == 0) {
        return false;
    }
    req->result = 0;
    return true;
}
#else
bool
fs_complete_inline(struct request *req)
{
    (void)req;
    return false; /* no way to ask whether a stat would wait */
}
#endif

void
fs_discard(struct request *req)
{
    if ((req->opcode == OP_OPENAT || req->opcode == OP_OPENFILE) && req->result >= 0) {
        close((int)req->result);
        req->result = -ECANCELED;
    }
}

int
fs_fill(struct request *req, enum opcode opcode, int fd, uint64_t length,
        const struct fs_args *args)
{
    req->opcode = opcode;
    req->fd = fd;
    req->offset = length;
    req->nbytes = 0;
    req->direct = false;
    req->path = Py_XNewRef(args->path);
    req->path2 = Py_XNewRef(args->path2);
    req->fd2 = args->fd2;
    req->flags = args->flags;
    req->mode = args->mode;
    return 0;
}

/* ---------------------------------------------------------------------------
 * os.stat_result, field by field as os.stat builds it
 */

struct stat_fields {
    unsigned long long dev, ino, rdev;
    long long size, blocks;
    long nlink, blksize;
    unsigned mode;
    uid_t uid;
    gid_t gid;
    long long sec[3];  /* atime, mtime, ctime */
    long nsec[3];
};

static void
stat_fields_of(struct request *req, struct stat_fields *out)
{
#ifdef ASYNCFILE_HAVE_STATX
    const struct statx *stx = &req->stx;
    out->dev = makedev(stx->stx_dev_major, stx->stx_dev_minor);
    out->rdev = makedev(stx->stx_rdev_major, stx->stx_rdev_minor);
    out->ino = stx->stx_ino;
    out->size = (long long)stx->stx_size;
    out->blocks = (long long)stx->stx_blocks;
    out->nlink = (long)stx->stx_nlink;
    out->blksize = (long)stx->stx_blksize;
    out->mode = stx->stx_mode;
    out->uid = stx->stx_uid;
    out->gid = stx->stx_gid;
    const struct statx_timestamp *times[3] = {&stx->stx_atime, &stx->stx_mtime,
                                              &stx->stx_ctime};
    for (int i = 0; i < 3; i++) {
        out->sec[i] = times[i]->tv_sec;
        out->nsec[i] = (long)times[i]->tv_nsec;
    }
#else
    const struct stat *st = &req->st;
    out->dev = (unsigned long long)st->st_dev;
    out->rdev = (unsigned long long)st->st_rdev;
    out->ino = (unsigned long long)st->st_ino;
    out->size = (long long)st->st_size;
    out->blocks = (long long)st->st_blocks;
    out->nlink = (long)st->st_nlink;
    out->blksize = (long)st->st_blksize;
    out->mode = st->st_mode;
    out->uid = st->st_uid;
    out->gid = st->st_gid;
#ifdef __APPLE__
    const struct timespec *times[3] = {&st->st_atimespec, &st->st_mtimespec,
                                       &st->st_ctimespec};
#else
    const struct timespec *times[3] = {&st->st_atim, &st->st_mtim, &st->st_ctim};
#endif
    for (int i = 0; i < 3; i++) {
        out->sec[i] = times[i]->tv_sec;
        out->nsec[i] = times[i]->tv_nsec;
    }
#endif
}

/* uid_t and gid_t as os gives them: -1 stays -1, the rest unsigned. */
static PyObject *
id_value(unsigned long id, unsigned long none)
{
    return id == none ? PyLong_FromLong(-1) : PyLong_FromUnsignedLong(id);
}

/* sec * 10**9 + nsec, as os computes st_*_ns (exact beyond 64 bits too). */
static PyObject *
nanoseconds(long long sec, long nsec)
{
    long long ns;
    if (!__builtin_mul_overflow(sec, 1000000000LL, &ns) &&
        !__builtin_add_overflow(ns, (long long)nsec, &ns)) {
        return PyLong_FromLongLong(ns);
    }
    PyObject *s = PyLong_FromLongLong(sec), *billion = PyLong_FromLong(1000000000L);
    PyObject *scaled = s && billion ? PyNumber_Multiply(s, billion) : NULL;
    PyObject *n = PyLong_FromLong(nsec);
    PyObject *sum = scaled && n ? PyNumber_Add(scaled, n) : NULL;
    Py_XDECREF(s);
    Py_XDECREF(billion);
    Py_XDECREF(scaled);
    Py_XDECREF(n);
    return sum;
}

/* The 19 fields os.stat fills on Linux and macOS: the 10 of the tuple, the
 * float and nanosecond times, st_blksize, st_blocks, st_rdev.  (macOS's
 * st_flags, st_gen and st_birthtime stay None here.) */
static PyObject *
stat_result_of(aio_state *state, struct request *req)
{
    struct stat_fields f;
    stat_fields_of(req, &f);
    PyObject *values = PyTuple_New(19);
    if (values == NULL) {
        return NULL;
    }
    PyObject *items[19] = {
        PyLong_FromLong((long)f.mode),
        PyLong_FromUnsignedLongLong(f.ino),
        PyLong_FromUnsignedLongLong(f.dev),
        PyLong_FromLong(f.nlink),
        id_value((unsigned long)f.uid, (unsigned long)(uid_t)-1),
        id_value((unsigned long)f.gid, (unsigned long)(gid_t)-1),
        PyLong_FromLongLong(f.size),
        PyLong_FromLongLong(f.sec[0]),
        PyLong_FromLongLong(f.sec[1]),
        PyLong_FromLongLong(f.sec[2]),
        PyFloat_FromDouble((double)f.sec[0] + (double)f.nsec[0] * 1e-9),
        PyFloat_FromDouble((double)f.sec[1] + (double)f.nsec[1] * 1e-9),
        PyFloat_FromDouble((double)f.sec[2] + (double)f.nsec[2] * 1e-9),
        nanoseconds(f.sec[0], f.nsec[0]),
        nanoseconds(f.sec[1], f.nsec[1]),
        nanoseconds(f.sec[2], f.nsec[2]),
        PyLong_FromLong(f.blksize),
        PyLong_FromLongLong(f.blocks),
        PyLong_FromUnsignedLongLong(f.rdev),
    };
    bool complete = true;
    for (Py_ssize_t i = 0; i < 19; i++) {
        complete = complete && items[i] != NULL;
        PyTuple_SET_ITEM(values, i, items[i] != NULL ? items[i] : Py_NewRef(Py_None));
    }
    PyObject *result = complete ? PyObject_CallOneArg(state->stat_result_type, values) : NULL;
    Py_DECREF(values);
    return result;
}

#ifndef ASYNCFILE_PORTABLE
/* struct linux_dirent64, as getdents64(2) lays the entries out. */
struct dirent64_header {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};
#endif

/* The names getdents64 read, but "." and "..", as os.listdir gives them
 * (str by the file system encoding with flags 1, else bytes); None at the
 * end of the directory. */
static PyObject *
names_of(struct request *req)
{
    if (req->result == 0) {
        Py_RETURN_NONE;
    }
    PyObject *names = PyList_New(0);
#ifndef ASYNCFILE_PORTABLE
    const char *buffer = req->bounce;
    for (int64_t at = 0; names != NULL && at < req->result;) {
        const struct dirent64_header *entry = (const void *)(buffer + at);
        at += entry->d_reclen;
        const char *name = entry->d_name;
        size_t length = strlen(name);
        if ((length == 1 && name[0] == '.') ||
            (length == 2 && name[0] == '.' && name[1] == '.')) {
            continue;
        }
        PyObject *item = req->flags & 1
                             ? PyUnicode_DecodeFSDefaultAndSize(name, (Py_ssize_t)length)
                             : PyBytes_FromStringAndSize(name, (Py_ssize_t)length);
        if (item == NULL || PyList_Append(names, item) < 0) {
            Py_CLEAR(names);
        }
        Py_XDECREF(item);
    }
#endif
    return names;
}

/* OP_OPENFILE's (fd, st_mode, st_blksize, st_size).  Without it the caller
 * cannot have the descriptor: it is closed here then. */
static PyObject *
opened_file_of(struct request *req)
{
    struct stat_fields f;
    stat_fields_of(req, &f);
    PyObject *opened =
        Py_BuildValue("(LIlL)", (long long)req->result, f.mode, f.blksize, f.size);
    if (opened == NULL) {
        fs_discard(req);
    }
    return opened;
}

/* The fields os.statvfs fills, in its order, and f_fsid. */
static PyObject *
statvfs_result_of(aio_state *state, const struct statvfs *vfs)
{
    PyObject *values = Py_BuildValue(
        "(kkKKKKKKkkk)", (unsigned long)vfs->f_bsize, (unsigned long)vfs->f_frsize,
        (unsigned long long)vfs->f_blocks, (unsigned long long)vfs->f_bfree,
        (unsigned long long)vfs->f_bavail, (unsigned long long)vfs->f_files,
        (unsigned long long)vfs->f_ffree, (unsigned long long)vfs->f_favail,
        (unsigned long)vfs->f_flag, (unsigned long)vfs->f_namemax,
        (unsigned long)vfs->f_fsid);
    if (values == NULL) {
        return NULL;
    }
    PyObject *result = PyObject_CallOneArg(state->statvfs_result_type, values);
    Py_DECREF(values);
    return result;
}

PyObject *
fs_value(aio_state *state, struct request *req)
{
    switch (req->opcode) {
    case OP_OPENAT:
        return PyLong_FromLongLong(req->result);
    case OP_OPENFILE:
        return opened_file_of(req);
    case OP_STATX:
        return stat_result_of(state, req);
    case OP_READLINK:
        return PyBytes_FromStringAndSize(req->bounce, (Py_ssize_t)req->result);
    case OP_STATVFS:
        return statvfs_result_of(state, &req->vfs);
    case OP_GETDENTS:
        return names_of(req);
    case OP_SENDFILE:
        return PyLong_FromLongLong(req->result);
    default:
        Py_RETURN_NONE;
    }
}

int
fs_module_init(PyObject *module, aio_state *state)
{
    PyObject *os = PyImport_ImportModule("os");
    if (os == NULL) {
        return -1;
    }
    state->stat_result_type = PyObject_GetAttrString(os, "stat_result");
    state->statvfs_result_type =
        state->stat_result_type != NULL ? PyObject_GetAttrString(os, "statvfs_result") : NULL;
    Py_DECREF(os);
    if (state->stat_result_type == NULL || state->statvfs_result_type == NULL) {
        return -1;
    }
    if (PyModule_AddIntConstant(module, "AT_FDCWD", AT_FDCWD) < 0 ||
        PyModule_AddIntConstant(module, "AT_REMOVEDIR", AT_REMOVEDIR) < 0 ||
        PyModule_AddIntConstant(module, "AT_SYMLINK_NOFOLLOW", AT_SYMLINK_NOFOLLOW) < 0 ||
        PyModule_AddIntConstant(module, "AT_SYMLINK_FOLLOW", AT_SYMLINK_FOLLOW) < 0 ||
        PyModule_AddIntConstant(module, "AT_EACCESS", AT_EACCESS) < 0 ||
        PyModule_AddIntConstant(module, "GETDENTS", GETDENTS_AVAILABLE) < 0) {
        return -1;
    }
    return 0;
}
