/* SPDX-License-Identifier: MIT
 *
 * launcher.h: what main.c needs from the other launcher files.
 */
#ifndef PYHOST__LAUNCHER_H
#define PYHOST__LAUNCHER_H

/* `pyhost bundle DIR [--app PATH]`: argv[0] is "bundle".  Returns the exit
 * status. */
int pyhost__launcher_bundle(int argc, char **argv);

#endif /* PYHOST__LAUNCHER_H */
