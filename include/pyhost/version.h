/* SPDX-License-Identifier: MIT
 *
 * version.h: the version of the pyhost C API, for code that has to build
 * against several releases of libpyhost.
 */
#ifndef PYHOST_VERSION_H
#define PYHOST_VERSION_H

#define PYHOST_VERSION_MAJOR 0
#define PYHOST_VERSION_MINOR 1
#define PYHOST_VERSION_PATCH 0
#define PYHOST_VERSION_STRING "0.1.0"

/* One number that grows with every release: 0x00MMmmpp. */
#define PYHOST_VERSION_HEX                                                    \
    ((PYHOST_VERSION_MAJOR << 16) | (PYHOST_VERSION_MINOR << 8) |             \
     PYHOST_VERSION_PATCH)

#endif /* PYHOST_VERSION_H */
