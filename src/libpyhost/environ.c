/* SPDX-License-Identifier: MIT
 *
 * environ.c: the environment variables that reach code Python cannot
 * guard.  PyConfig.use_environment = 0 stops every PYTHON* variable, but
 * these are read by native libraries or by stdlib code that does not look
 * at sys.flags.ignore_environment, and each can load code chosen by
 * whoever controls the environment (measured on this machine: OPENSSL_CONF
 * loads a provider .so on `import hashlib` even under python3 -I, and
 * sysconfig imports the module named by _PYTHON_SYSCONFIGDATA_NAME).
 * They are removed before Python starts, so os.environ and child processes
 * do not see them either.
 */
#include <stdlib.h>

#include "internal.h"

static const char *const environ_names[] = {
    /* libcrypto: configuration that loads providers, engines, includes. */
    "OPENSSL_CONF",
    "OPENSSL_CONF_INCLUDE",
    "OPENSSL_MODULES",
    "OPENSSL_ENGINES",
    /* sysconfig (any mode): import a module named by the variable, or
     * take the build tree / platform from it. */
    "_PYTHON_SYSCONFIGDATA_NAME",
    "_PYTHON_SYSCONFIGDATA_PATH",
    "_PYTHON_PROJECT_BASE",
    "_PYTHON_HOST_PLATFORM",
    /* getpath on macOS and the venv launcher: choose sys.executable. */
    "PYTHONEXECUTABLE",
    "__PYVENV_LAUNCHER__",
    /* glibc iconv: loads conversion modules from this folder. */
    "GCONV_PATH",
    NULL,
};

const char *const *
pyhost_scrubbed_names(void)
{
    return environ_names;
}

int
pyhost__scrub_environment(pyhost_t *host)
{
    for (size_t i = 0; environ_names[i] != NULL; i++) {
        if (getenv(environ_names[i]) == NULL) {
            continue;
        }
        if (pyhost__strlist_append(&host->scrubbed, environ_names[i]) !=
            PYHOST_OK) {
            return pyhost__fail(host, PYHOST_ENOMEM, "out of memory");
        }
        unsetenv(environ_names[i]);
    }
    return PYHOST_OK;
}
