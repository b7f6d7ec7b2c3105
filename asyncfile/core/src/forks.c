/*
 * Forks: the process-wide fork counter and this process's pid.
 *
 * Owns aio_fork_generation (a context made before the last fork rebuilds
 * instead of touching its parent's kernel resources), aio_pid and the
 * pthread_atfork handler that bumps them, and fork_generation().
 * Relies on: nothing but core.h.
 */
#include "context.h"
#include "compat.h"

#include <pthread.h>
#include <unistd.h>

/* Bumped in a forked child: a context created before sees a different value
 * and rebuilds instead of touching its parent's ring, AIO context or pool. A
 * process-wide counter, since fork is process-wide, and the only one:
 * asyncfile.core.forks reads it (fork_generation()), and every fork() counts,
 * os.fork() or a C library's. */
unsigned aio_fork_generation;
/* getpid(), noted at start and in each child, for asking without a call. */
pid_t aio_pid;

static void
note_fork_in_child(void)
{
    aio_fork_generation++;
    aio_pid = getpid();
}

static pthread_once_t fork_handler_once = PTHREAD_ONCE_INIT;

static void
install_fork_handler(void)
{
    aio_pid = getpid();
    pthread_atfork(NULL, NULL, note_fork_in_child);
}

PyDoc_STRVAR(fork_generation__doc__,
"fork_generation($module, /)\n--\n\n"
"How many forks led to this process: 0 in the process that imported the\n"
"core first, one more in each forked child.");

static PyObject *
fork_generation(PyObject *Py_UNUSED(module), PyObject *Py_UNUSED(ignored))
{
    return PyLong_FromUnsignedLong(aio_fork_generation);
}

static PyMethodDef fork_functions[] = {
    {"fork_generation", fork_generation, METH_NOARGS, fork_generation__doc__},
    {NULL, NULL, 0, NULL},
};

int
forks_module_init(PyObject *module)
{
    pthread_once(&fork_handler_once, install_fork_handler);
    return PyModule_AddFunctions(module, fork_functions);
}
