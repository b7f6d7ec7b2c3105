/*
 * The context methods that start filesystem calls (FS_METHODS in core.h):
 * aopenat, aclose, astat, arenameat, ... as awaitable calls of call.c.
 *
 * Owns only the methods' argument parsing; the system calls, their inline
 * path and their results are fsops.c's.
 * Relies on: call.c (call_new_fs), arguments.c (the converters).
 */
#include "core.h"
#include "context.h"

#include <fcntl.h>
#include <stdint.h>

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

/* The parser aopenat and aopen_file share: (dir_fd, path, flags, mode, /). */
static PyObject *
start_open(PyObject *self, PyObject *const *args, Py_ssize_t nargs, enum opcode opcode,
           const char *name)
{
    int dir_fd, flags;
    unsigned int mode;
    PyObject *path = NULL;

    if (check_positional(name, nargs, 4, 4) < 0 || !int_converter(args[0], &dir_fd) ||
        !bytes_path(name, 2, args[1], &path) || !int_converter(args[2], &flags) ||
        !unsigned_int_mask_converter(args[3], &mode)) {
        return NULL;
    }
    return start_fs(self, opcode, dir_fd, 0, path, NULL, 0, flags, mode);
}

FS_DOC(fs_aopenat__doc__,
"aopenat($self, dir_fd, path, flags, mode, /)\n--\n\n"
"Awaitable openat(2) with O_CLOEXEC added; its value is the descriptor.  One\n"
"whose awaiter is gone when it completes is closed.");

PyObject *
fs_aopenat(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    return start_open(self, args, nargs, OP_OPENAT, "aopenat");
}

FS_DOC(fs_aopen_file__doc__,
"aopen_file($self, dir_fd, path, flags, mode, /)\n--\n\n"
"Awaitable openat(2) with O_CLOEXEC added, then a stat of the new descriptor;\n"
"its value is (fd, st_mode, st_blksize, st_size), what a file object asks\n"
"of os.fstat.  A file the caches hold opens on the loop, as io_uring opens\n"
"it at submission; one whose awaiter is gone when it completes is closed.");

PyObject *
fs_aopen_file(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    return start_open(self, args, nargs, OP_OPENFILE, "aopen_file");
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
