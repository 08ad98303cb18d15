/* SPDX-License-Identifier: MIT
 *
 * launcher.h: what main.c needs from the other launcher files.
 */
#ifndef PYHOST_LAUNCHER_H
#define PYHOST_LAUNCHER_H

/* `pyhost bundle DIR [--app PATH]`: argv[0] is "bundle".  Returns the exit
 * status. */
int launcher_bundle(int argc, char **argv);

#endif /* PYHOST_LAUNCHER_H */
