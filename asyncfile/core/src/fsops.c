/*
 * Filesystem calls: open, close, stat, rename, unlink, mkdir, symlink, link,
 * truncate as requests of the core.
 *
 * io_uring runs those its kernel has (uring.c probes each opcode); everything
 * else, and every call on the other native backends, runs fs_perform on a pool
 * worker, without the GIL.  The Python layer (asyncfile/_filesystem.py) passes
 * paths as bytes (os.fsencode), which the request holds until completion, and
 * turns an error into the OSError os would raise, with its file names.
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

static int64_t
stat_call(struct request *req)
{
#ifdef ASYNCFILE_HAVE_STATX
    int flags = req->flags;
    if (req->path == NULL) {
        flags |= AT_EMPTY_PATH;
    }
    return statx(req->fd, path_of(req->path), flags, STATX_BASIC_STATS, &req->stx);
#else
    if (req->path == NULL) {
        return fstat(req->fd, &req->st);
    }
    return fstatat(req->fd, path_of(req->path), &req->st, req->flags);
#endif
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

/* The most sendfile(2) moves in one call on Linux (MAX_RW_COUNT): a larger
 * count asks for nothing more, so it fits the request's 32-bit `mode`. */
#define SENDFILE_MAX 0x7ffff000u

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
    bool counted = req->opcode == OP_OPENAT || req->opcode == OP_READLINK ||
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

bool
fs_complete_inline(struct request *req)
{
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
    if (req->opcode == OP_OPENAT && req->result >= 0) {
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

/* ---------------------------------------------------------------------------
 * The context methods
 *
 * Each parser is in the shape Argument Clinic generates (METH_FASTCALL, or
 * METH_O for one argument; positional-only), with the errors of the
 * PyArg_ParseTuple formats it replaces: a descriptor or size through
 * fd_converter / size_converter, other ints as "i" or "I", and a path as
 * bytes (os.fsencode's, which the Python layer checked for NUL).  start_fs is
 * their common *_impl.
 */

static PyObject *
start_fs(PyObject *self, enum opcode opcode, int fd, uint64_t length, PyObject *path,
         PyObject *path2, int fd2, int flags, unsigned mode)
{
    struct fs_args args = {path, path2, fd2, flags, mode};
    return call_new_fs(CONTEXT(self), opcode, fd, length, &args);
}

#define FS_DOC(name, text) const char name[] = text

/* Argument `position` (from 1) of `name`, a path: bytes. */
static int
bytes_path(const char *name, Py_ssize_t position, PyObject *arg, PyObject **out)
{
    if (!PyBytes_Check(arg)) {
        return bad_argument(name, position, "bytes", arg);
    }
    *out = arg;
    return 1;
}

/* A path argument or None (the descriptor itself). */
static int
optional_path(PyObject *path, PyObject **out)
{
    if (path != Py_None && !PyBytes_Check(path)) {
        PyErr_Format(PyExc_TypeError, "path must be bytes or None, not %.200s",
                     Py_TYPE(path)->tp_name);
        return 0;
    }
    *out = path == Py_None ? NULL : path;
    return 1;
}

/* A length or offset: size_converter's range, as 64 bits on every platform. */
static int
length_converter(PyObject *arg, uint64_t *out)
{
    size_t size;
    if (!size_converter(arg, &size)) {
        return 0;
    }
    *out = size;
    return 1;
}

FS_DOC(fs_aopenat__doc__,
"aopenat($self, dir_fd, path, flags, mode, /)\n--\n\n"
"Awaitable openat(2) with O_CLOEXEC added; its value is the descriptor.  One\n"
"whose awaiter is gone when it completes is closed.");

PyObject *
fs_aopenat(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    PyObject *return_value = NULL;
    int dir_fd, flags;
    unsigned int mode;
    PyObject *path = NULL;

    if (check_positional("aopenat", nargs, 4, 4) < 0 || !int_converter(args[0], &dir_fd) ||
        !bytes_path("aopenat", 2, args[1], &path) || !int_converter(args[2], &flags) ||
        !unsigned_int_mask_converter(args[3], &mode)) {
        goto exit;
    }
    return_value = start_fs(self, OP_OPENAT, dir_fd, 0, path, NULL, 0, flags, mode);

exit:
    return return_value;
}

FS_DOC(fs_aclose__doc__,
"aclose($self, fd, /)\n--\n\n"
"Awaitable close(2).");

PyObject *
fs_aclose(PyObject *self, PyObject *arg)
{
    PyObject *return_value = NULL;
    int fd;

    if (!fd_converter(arg, &fd)) {
        goto exit;
    }
    return_value = start_fs(self, OP_CLOSE, fd, 0, NULL, NULL, 0, 0, 0);

exit:
    return return_value;
}

FS_DOC(fs_astat__doc__,
"astat($self, dir_fd, path, flags, /)\n--\n\n"
"Awaitable statx(2) (fstatat(2) where there is none); its value is the\n"
"os.stat_result os.stat gives.  path None: fstat(dir_fd).");

PyObject *
fs_astat(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    PyObject *return_value = NULL;
    int dir_fd, flags;
    PyObject *path = NULL;

    if (check_positional("astat", nargs, 3, 3) < 0 || !int_converter(args[0], &dir_fd) ||
        !optional_path(args[1], &path) || !int_converter(args[2], &flags)) {
        goto exit;
    }
    return_value = start_fs(self, OP_STATX, dir_fd, 0, path, NULL, 0, flags, 0);

exit:
    return return_value;
}

/* The parser arenameat and alinkat share: (dir_fd, path, dir_fd2, path2[, flags], /). */
static PyObject *
two_paths(PyObject *self, PyObject *const *args, Py_ssize_t nargs, enum opcode opcode,
          const char *name, Py_ssize_t count)
{
    PyObject *return_value = NULL;
    int dir_fd, dir_fd2, flags = 0;
    PyObject *path = NULL, *path2 = NULL;

    if (check_positional(name, nargs, count, count) < 0 ||
        !int_converter(args[0], &dir_fd) || !bytes_path(name, 2, args[1], &path) ||
        !int_converter(args[2], &dir_fd2) || !bytes_path(name, 4, args[3], &path2) ||
        (count > 4 && !int_converter(args[4], &flags))) {
        goto exit;
    }
    return_value = start_fs(self, opcode, dir_fd, 0, path, path2, dir_fd2, flags, 0);

exit:
    return return_value;
}

FS_DOC(fs_arenameat__doc__,
"arenameat($self, src_dir_fd, src, dst_dir_fd, dst, /)\n--\n\n"
"Awaitable renameat(2): os.rename and os.replace on POSIX.");

PyObject *
fs_arenameat(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    return two_paths(self, args, nargs, OP_RENAMEAT, "arenameat", 4);
}

FS_DOC(fs_alinkat__doc__,
"alinkat($self, src_dir_fd, src, dst_dir_fd, dst, flags, /)\n--\n\n"
"Awaitable linkat(2).");

PyObject *
fs_alinkat(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    return two_paths(self, args, nargs, OP_LINKAT, "alinkat", 5);
}

FS_DOC(fs_asymlinkat__doc__,
"asymlinkat($self, target, dir_fd, path, /)\n--\n\n"
"Awaitable symlinkat(2): a link at path, in dir_fd, to target.");

PyObject *
fs_asymlinkat(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    PyObject *return_value = NULL;
    int dir_fd;
    PyObject *target = NULL, *path = NULL;

    if (check_positional("asymlinkat", nargs, 3, 3) < 0 ||
        !bytes_path("asymlinkat", 1, args[0], &target) ||
        !int_converter(args[1], &dir_fd) || !bytes_path("asymlinkat", 3, args[2], &path)) {
        goto exit;
    }
    return_value = start_fs(self, OP_SYMLINKAT, dir_fd, 0, target, path, 0, 0, 0);

exit:
    return return_value;
}

FS_DOC(fs_aunlinkat__doc__,
"aunlinkat($self, dir_fd, path, flags, /)\n--\n\n"
"Awaitable unlinkat(2); flags AT_REMOVEDIR removes a directory.");

PyObject *
fs_aunlinkat(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    PyObject *return_value = NULL;
    int dir_fd, flags;
    PyObject *path = NULL;

    if (check_positional("aunlinkat", nargs, 3, 3) < 0 ||
        !int_converter(args[0], &dir_fd) || !bytes_path("aunlinkat", 2, args[1], &path) ||
        !int_converter(args[2], &flags)) {
        goto exit;
    }
    return_value = start_fs(self, OP_UNLINKAT, dir_fd, 0, path, NULL, 0, flags, 0);

exit:
    return return_value;
}

FS_DOC(fs_amkdirat__doc__,
"amkdirat($self, dir_fd, path, mode, /)\n--\n\n"
"Awaitable mkdirat(2).");

PyObject *
fs_amkdirat(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    PyObject *return_value = NULL;
    int dir_fd;
    unsigned int mode;
    PyObject *path = NULL;

    if (check_positional("amkdirat", nargs, 3, 3) < 0 ||
        !int_converter(args[0], &dir_fd) || !bytes_path("amkdirat", 2, args[1], &path) ||
        !unsigned_int_mask_converter(args[2], &mode)) {
        goto exit;
    }
    return_value = start_fs(self, OP_MKDIRAT, dir_fd, 0, path, NULL, 0, 0, mode);

exit:
    return return_value;
}

FS_DOC(fs_aftruncate__doc__,
"aftruncate($self, fd, length, /)\n--\n\n"
"Awaitable ftruncate(2).");

PyObject *
fs_aftruncate(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    PyObject *return_value = NULL;
    int fd;
    uint64_t length;

    if (check_positional("aftruncate", nargs, 2, 2) < 0 || !fd_converter(args[0], &fd) ||
        !length_converter(args[1], &length)) {
        goto exit;
    }
    return_value = start_fs(self, OP_FTRUNCATE, fd, length, NULL, NULL, 0, 0, 0);

exit:
    return return_value;
}

FS_DOC(fs_atruncate__doc__,
"atruncate($self, path, length, /)\n--\n\n"
"Awaitable truncate(2).");

PyObject *
fs_atruncate(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    PyObject *return_value = NULL;
    uint64_t length;
    PyObject *path = NULL;

    if (check_positional("atruncate", nargs, 2, 2) < 0 ||
        !bytes_path("atruncate", 1, args[0], &path) || !length_converter(args[1], &length)) {
        goto exit;
    }
    return_value = start_fs(self, OP_TRUNCATE, AT_FDCWD, length, path, NULL, 0, 0, 0);

exit:
    return return_value;
}

FS_DOC(fs_afallocate__doc__,
"afallocate($self, fd, offset, length, /)\n--\n\n"
"Awaitable posix_fallocate(3): fallocate(2) on the ring where the kernel has\n"
"it (EOPNOTSUPP where the file system cannot), else posix_fallocate on the pool.");

PyObject *
fs_afallocate(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    PyObject *return_value = NULL;
    int fd;
    uint64_t offset, length;

    if (check_positional("afallocate", nargs, 3, 3) < 0 || !fd_converter(args[0], &fd) ||
        !length_converter(args[1], &offset) || !length_converter(args[2], &length)) {
        goto exit;
    }
    /* fs_args has no second 64-bit field: the length rides in fd2 and mode. */
    return_value = start_fs(self, OP_FALLOCATE, fd, offset, NULL, NULL,
                            (int)(uint32_t)(length >> 32), 0,
                            (unsigned)(length & 0xFFFFFFFFu));

exit:
    return return_value;
}

FS_DOC(fs_areadlinkat__doc__,
"areadlinkat($self, dir_fd, path, /)\n--\n\n"
"Awaitable readlinkat(2); its value is the target, as bytes.");

PyObject *
fs_areadlinkat(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    PyObject *return_value = NULL;
    int dir_fd;
    PyObject *path = NULL;

    if (check_positional("areadlinkat", nargs, 2, 2) < 0 ||
        !int_converter(args[0], &dir_fd) || !bytes_path("areadlinkat", 2, args[1], &path)) {
        goto exit;
    }
    return_value = start_fs(self, OP_READLINK, dir_fd, 0, path, NULL, 0, 0, 0);

exit:
    return return_value;
}

FS_DOC(fs_afaccessat__doc__,
"afaccessat($self, dir_fd, path, mode, flags, /)\n--\n\n"
"Awaitable faccessat(2): None where access is granted, else the OSError.");

PyObject *
fs_afaccessat(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    PyObject *return_value = NULL;
    int dir_fd, mode, flags;
    PyObject *path = NULL;

    if (check_positional("afaccessat", nargs, 4, 4) < 0 ||
        !int_converter(args[0], &dir_fd) || !bytes_path("afaccessat", 2, args[1], &path) ||
        !int_converter(args[2], &mode) || !int_converter(args[3], &flags)) {
        goto exit;
    }
    return_value = start_fs(self, OP_ACCESS, dir_fd, 0, path, NULL, 0, flags, (unsigned)mode);

exit:
    return return_value;
}

FS_DOC(fs_afchmodat__doc__,
"afchmodat($self, dir_fd, path, mode, flags, /)\n--\n\n"
"Awaitable fchmodat(2); path None: fchmod(dir_fd).");

PyObject *
fs_afchmodat(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    PyObject *return_value = NULL;
    int dir_fd, flags;
    unsigned int mode;
    PyObject *path = NULL;

    if (check_positional("afchmodat", nargs, 4, 4) < 0 ||
        !int_converter(args[0], &dir_fd) || !optional_path(args[1], &path) ||
        !unsigned_int_mask_converter(args[2], &mode) || !int_converter(args[3], &flags)) {
        goto exit;
    }
    return_value = start_fs(self, OP_CHMOD, dir_fd, 0, path, NULL, 0, flags, mode);

exit:
    return return_value;
}

/* autimensat's times: None (now, *out stays NULL) or ((sec, nsec), (sec, nsec))
 * packed as two struct timespec in a new bytes object, the request's second
 * "path": immutable memory the worker reads without the GIL.  Each pair is
 * getargs' "(Ll)", whose errors it keeps. */
static int
times_converter(PyObject *arg, PyObject **out)
{
    *out = NULL;
    if (arg == Py_None) {
        return 1;
    }
    if (!PyTuple_Check(arg)) {
        return bad_argument("autimensat", 3, "tuple or None", arg);
    }
    long long sec[2];
    long nsec[2];
    if (!PyArg_ParseTuple(arg, "(Ll)(Ll):autimensat", &sec[0], &nsec[0], &sec[1],
                          &nsec[1])) {
        return 0;
    }
    struct timespec times[2];
    for (int i = 0; i < 2; i++) {
        times[i].tv_sec = (time_t)sec[i];
        times[i].tv_nsec = nsec[i];
        if ((long long)times[i].tv_sec != sec[i]) {
            PyErr_SetString(PyExc_OverflowError, "timestamp out of range for platform time_t");
            return 0;
        }
    }
    *out = PyBytes_FromStringAndSize((const char *)times, sizeof(times));
    return *out != NULL;
}

FS_DOC(fs_autimensat__doc__,
"autimensat($self, dir_fd, path, times, flags, /)\n--\n\n"
"Awaitable utimensat(2); path None: futimens(dir_fd).  times: None (now) or\n"
"((atime_sec, atime_nsec), (mtime_sec, mtime_nsec)).");

PyObject *
fs_autimensat(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    PyObject *return_value = NULL;
    int dir_fd, flags;
    PyObject *path = NULL, *packed = NULL;

    if (check_positional("autimensat", nargs, 4, 4) < 0 ||
        !int_converter(args[0], &dir_fd) || !optional_path(args[1], &path) ||
        !times_converter(args[2], &packed) || !int_converter(args[3], &flags)) {
        goto exit;
    }
    return_value = start_fs(self, OP_UTIME, dir_fd, 0, path, packed, 0, flags, 0);

exit:
    Py_XDECREF(packed);
    return return_value;
}

FS_DOC(fs_astatvfs__doc__,
"astatvfs($self, fd, path, /)\n--\n\n"
"Awaitable statvfs(3); path None: fstatvfs(fd).  Its value is the\n"
"os.statvfs_result os.statvfs gives.");

PyObject *
fs_astatvfs(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    PyObject *return_value = NULL;
    int fd;
    PyObject *path = NULL;

    if (check_positional("astatvfs", nargs, 2, 2) < 0 || !int_converter(args[0], &fd) ||
        !optional_path(args[1], &path)) {
        goto exit;
    }
    return_value = start_fs(self, OP_STATVFS, fd, 0, path, NULL, 0, 0, 0);

exit:
    return return_value;
}

FS_DOC(fs_agetdents__doc__,
"agetdents($self, fd, as_str, /)\n--\n\n"
"Awaitable getdents64(2) of directory fd: its next names (str if as_str, as\n"
"os.listdir decodes them, else bytes), \".\" and \"..\" left out; None at the\n"
"end.  Linux only (ENOSYS elsewhere: see GETDENTS).");

PyObject *
fs_agetdents(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    PyObject *return_value = NULL;
    int fd, as_str;

    if (check_positional("agetdents", nargs, 2, 2) < 0 || !fd_converter(args[0], &fd) ||
        !bool_converter(args[1], &as_str)) {
        goto exit;
    }
    return_value = start_fs(self, OP_GETDENTS, fd, 0, NULL, NULL, 0, as_str, 0);

exit:
    return return_value;
}

FS_DOC(fs_asendfile__doc__,
"asendfile($self, out_fd, in_fd, offset, count, /)\n--\n\n"
"Awaitable sendfile(2) (Linux): its value is the count sent.  offset None:\n"
"from in_fd's position, which it advances.");

PyObject *
fs_asendfile(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    PyObject *return_value = NULL;
    int out_fd, in_fd;
    uint64_t offset = 0, count;

    if (check_positional("asendfile", nargs, 4, 4) < 0 ||
        !fd_converter(args[0], &out_fd) || !fd_converter(args[1], &in_fd) ||
        (args[2] != Py_None && !length_converter(args[2], &offset)) ||
        !length_converter(args[3], &count)) {
        goto exit;
    }
    unsigned clamped = count < SENDFILE_MAX ? (unsigned)count : SENDFILE_MAX;
    return_value = start_fs(self, OP_SENDFILE, out_fd, offset, NULL, NULL, in_fd,
                            args[2] == Py_None ? 1 : 0, clamped);

exit:
    return return_value;
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
