# SPDX-License-Identifier: MIT
"""Start-up benchmark for the isolated start: the time from spawning to the
end of `-c pass`, side by side in one run, rounds interleaved so machine
noise hits every command alike.

    python bench/startup.py [--rounds N]

Run it with the venv where pyhost is installed; python3 is that venv's base
interpreter (the one pyhost was built against).  Prints wall-time medians
and p10/p90, the median CPU time (user + system) of the child, and both
ratios to `python3 -I -S -c pass` (target for pyhost: <= 1.0)."""
import argparse
import os
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time

VERSION = "%d.%d" % sys.version_info[:2]
LAUNCHER = os.path.join(sysconfig.get_path("scripts"), "pyhost")
PYTHON = os.path.realpath(os.path.join(sys.base_prefix, "bin",
                                       "python" + VERSION))


def spawn_time(argv, env):
    """Wall time and CPU time (user + system) of one run of argv, in
    milliseconds.  posix_spawn and wait4: less overhead than subprocess,
    and the child's own CPU time, which other load on the machine
    disturbs less than wall time."""
    with open(os.devnull, "wb") as null:
        start = time.perf_counter()
        pid = os.posix_spawn(argv[0], argv, env, file_actions=[
            (os.POSIX_SPAWN_DUP2, null.fileno(), 1),
            (os.POSIX_SPAWN_DUP2, null.fileno(), 2)])
        _, status, usage = os.wait4(pid, 0)
        elapsed = (time.perf_counter() - start) * 1000
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit("bench: %s failed" % " ".join(argv))
    return elapsed, (usage.ru_utime + usage.ru_stime) * 1000


def make_bundle(folder):
    dest = os.path.join(folder, "bundle")
    subprocess.run([LAUNCHER, "bundle", dest], check=True,
                   stderr=subprocess.DEVNULL)
    return os.path.join(dest, "pyhost")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=100)
    args = parser.parse_args()
    if not os.path.exists(LAUNCHER):
        raise SystemExit("bench: pyhost is not installed in %s" % LAUNCHER)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    with tempfile.TemporaryDirectory() as tmp:
        bundle = make_bundle(tmp)
        commands = [
            ("pyhost -c pass", [LAUNCHER, "-c", "pass"]),
            ("bundle (zipped stdlib): pyhost -c pass",
             [bundle, "-c", "pass"]),
            ("python3 -I -S -c pass", [PYTHON, "-I", "-S", "-c", "pass"]),
            ("python3 -I -c pass", [PYTHON, "-I", "-c", "pass"]),
            ("python3 -c pass", [PYTHON, "-c", "pass"]),
            ("/bin/true (spawn floor)", ["/bin/true"]),
        ]
        for _, argv in commands:  # warm the page cache
            for _ in range(3):
                spawn_time(argv, env)
        wall = {name: [] for name, _ in commands}
        cpu = {name: [] for name, _ in commands}
        for _ in range(args.rounds):
            for name, argv in commands:
                w, c = spawn_time(argv, env)
                wall[name].append(w)
                cpu[name].append(c)
    base = "python3 -I -S -c pass"
    base_wall = statistics.median(wall[base])
    base_cpu = statistics.median(cpu[base])
    print("Start-up to the end of `-c pass`, Python %s, %d interleaved "
          "rounds, %d CPUs (ms)" % (VERSION, args.rounds, os.cpu_count()))
    print()
    print("| Command | wall median | wall p10 | wall p90 | CPU median "
          "| ratio to `python3 -I -S` (wall) | (CPU) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, _ in commands:
        t = sorted(wall[name])
        med = statistics.median(t)
        cmed = statistics.median(cpu[name])
        print("| `%s` | %.1f | %.1f | %.1f | %.1f | %.2f | %.2f |"
              % (name, med, t[len(t) // 10], t[(len(t) * 9) // 10], cmed,
                 med / base_wall, cmed / base_cpu))


if __name__ == "__main__":
    main()
