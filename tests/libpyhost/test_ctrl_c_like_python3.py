# SPDX-License-Identifier: MIT
"""Ctrl-C behaves as under python3: in a running script it raises
KeyboardInterrupt, prints the traceback and the process dies of SIGINT;
at the prompt it cancels the line and the prompt goes on."""
import fcntl
import os
import select
import signal
import subprocess
import termios
import time

import embedtools
from testenv import scaled

# How long to wait for what a step expects; it only bounds a hang.
TIMEOUT = scaled(20)


def default_sigint():
    """In the child: SIGINT back to its default.  A shell starts background
    jobs with SIGINT ignored, and python3 (and pyhost) keep an ignored
    SIGINT ignored, so a suite run in the background would hang."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def interrupt_script(cmd, tmp_path):
    script = tmp_path / "sleeper.py"
    script.write_text("import sys, time\nprint('ready', flush=True)\n"
                      "time.sleep(60)\n")
    proc = subprocess.Popen([str(c) for c in cmd] + [str(script)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, preexec_fn=default_sigint)
    assert proc.stdout.readline() == "ready\n"
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=TIMEOUT)
    return proc.returncode, err


def test_ctrl_c_in_a_running_script(launcher, tmp_path):
    rc, err = interrupt_script([launcher], tmp_path)
    base_rc, base_err = interrupt_script([embedtools.BASE_PYTHON, "-I"],
                                         tmp_path)
    assert rc == base_rc == -signal.SIGINT
    assert err.splitlines()[-1] == base_err.splitlines()[-1] == \
        "KeyboardInterrupt"
    assert 'sleeper.py", line' in err


class Terminal:
    """A process on a pseudo-terminal that is its controlling tty, so the
    line discipline turns ^C into SIGINT as in a real shell."""

    def __init__(self, cmd):
        self.master, slave = os.openpty()

        def controlling():
            default_sigint()
            os.setsid()
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        self.proc = subprocess.Popen([str(c) for c in cmd], stdin=slave,
                                     stdout=slave, stderr=slave,
                                     preexec_fn=controlling)
        os.close(slave)
        self.out = b""
        self.pos = 0  # expect() looks only after the last match

    def expect(self, text, timeout=TIMEOUT):
        deadline = time.monotonic() + timeout
        while text.encode() not in self.out[self.pos:]:
            left = deadline - time.monotonic()
            assert left > 0, "did not see %r in %r" % (text, self.out)
            r, _, _ = select.select([self.master], [], [], left)
            if r:
                try:
                    chunk = os.read(self.master, 4096)
                except OSError:
                    chunk = b""
                assert chunk, "EOF before %r in %r" % (text, self.out)
                self.out += chunk
        self.pos = self.out.index(text.encode(), self.pos) + len(text)

    def type(self, text):
        """Type text once the prompt reads the terminal (readline switches
        it out of canonical mode first, and may drop what came before),
        then see it echoed."""
        deadline = time.monotonic() + 3
        while (termios.tcgetattr(self.master)[3] & termios.ICANON and
               time.monotonic() < deadline):
            time.sleep(0.02)  # no readline module: canonical mode stays
        time.sleep(0.05)
        self.send(text)
        self.expect(text.rstrip("\r"))

    def send(self, text):
        os.write(self.master, text.encode())

    def close(self):
        try:
            return self.proc.wait(timeout=TIMEOUT)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            os.close(self.master)


def test_ctrl_c_at_the_prompt(launcher):
    term = Terminal([launcher])
    try:
        term.expect(">>> ")
        assert b"pyhost: sys.path is fixed" in term.out
        term.type("while True: pass")
        # Let readline go back to waiting: a SIGINT that lands while it is
        # busy echoing is only seen at the next key (CPython's readline
        # checks signals when select() is interrupted), python3 alike.
        time.sleep(0.3)
        term.send("\x03")  # ^C on a half-typed line
        term.expect("KeyboardInterrupt")
        term.expect(">>> ")
        # The statement says when it runs (the echo holds 'sle' + 'eping',
        # not the word), so ^C lands in the sleep, not in the line editor.
        term.type("import time; print('sle' + 'eping'); time.sleep(30)\r")
        term.expect("sleeping")
        term.send("\x03")  # ^C in a running statement
        term.expect("KeyboardInterrupt")
        term.expect(">>> ")
        term.type("print(6 * 7)\r")
        term.expect("42")
        term.type("raise SystemExit(5)\r")
    finally:
        rc = term.close()
    assert rc == 5


def test_ctrl_d_leaves_the_prompt(launcher):
    term = Terminal([launcher, "-q"])
    try:
        term.expect(">>> ")
        assert b"Python" not in term.out  # -q: no banner
        term.type("")
        term.send("\x04")
    finally:
        rc = term.close()
    assert rc == 0
