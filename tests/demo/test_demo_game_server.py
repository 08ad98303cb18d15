# SPDX-License-Identifier: MIT
"""The main job end to end: the demo game server under the pyhost launcher,
isolated, with the console on; bots play; the deliberate leaks of its native
engine appear on the console's Leaks page; bad clients cannot hurt it; Ctrl-C
stops it cleanly."""
import json
import os
import pathlib
import re
import signal
import socket
import struct
import subprocess
import sys
import sysconfig
import time
import urllib.request

import pytest

from testenv import SANITIZED, scaled

LAUNCHER = pathlib.Path(sysconfig.get_path("scripts")) / "pyhost"


def _default_sigint():
    # A test run started as a shell background job inherits SIGINT ignored,
    # and an interpreter keeps it ignored: give the demo the usual handler.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _launch(path_file, *args):
    return subprocess.Popen([str(LAUNCHER), "--paths", str(path_file), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, preexec_fn=_default_sigint)


@pytest.fixture
def demo(tmp_path):
    path_file = tmp_path / "demo._pth"
    subprocess.run([sys.executable, "-m", "pyhost.demo.pathfile",
                    str(path_file)], check=True)
    proc = _launch(path_file, "--console", "127.0.0.1:0", "-m", "pyhost.demo")
    lines, url, port = [], None, None
    deadline = time.monotonic() + scaled(30)
    while (url is None or port is None) and time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        lines.append(line)
        url = url or (re.search(r"pyhost console: (\S+)", line) or [None, None])[1]
        found = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
        port = port or (found and int(found[1]))
    if port is not None:
        lines.append(proc.stderr.readline())      # "connect a client: ..."
    if url is None or port is None:
        proc.kill()
        pytest.fail("the demo did not start:\n" + "".join(lines)
                    + proc.stderr.read())
    hint = "".join(lines)
    yield proc, url, port, path_file, hint
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def _api(url, page, **params):
    base, token = url.split("/?token=")
    query = "&".join(f"{k}={v}" for k, v in {**params, "token": token}.items())
    with urllib.request.urlopen(f"{base}/api/{page}?{query}",
                                timeout=scaled(10)) as response:
        return json.load(response)


def _join(port, name):
    """Connect and join as name; return (socket, its file)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=scaled(10))
    f = s.makefile("rwb")
    assert f.readline().startswith(b"WELCOME")
    f.write(b"NAME %s\n" % name)
    f.flush()
    _expect(f, b"JOIN " + name)
    return s, f


def _expect(f, prefix, limit=1000):
    """Read lines (other players' events may come between) until one starts
    with prefix; return it."""
    for _ in range(limit):
        line = f.readline()
        assert line, f"connection closed while waiting for {prefix!r}"
        if line.startswith(prefix):
            return line
    raise AssertionError(f"no line starting with {prefix!r}")


def _count(rows, type_name):
    return sum(r["count"] for r in rows if r["type"] == type_name)


def _play(path_file, port, seconds=2, bots=3):
    proc = subprocess.run(
        [str(LAUNCHER), "--paths", str(path_file), "-m", "pyhost.demo.client",
         "--port", str(port), "--seconds", str(seconds), "--bots", str(bots)],
        capture_output=True, text=True, timeout=scaled(60))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    sent = int(re.findall(r"sent (\d+) commands", proc.stdout)[-1])
    received = int(re.findall(r"received (\d+) events", proc.stdout)[-1])
    return sent, received


def test_the_hint_is_a_command_that_works(demo):
    proc, url, port, path_file, hint = demo
    command = re.search(r"connect a client: (.+)", hint)[1]
    assert command.startswith(f"{LAUNCHER} --paths {path_file} ")
    assert f"--port {port}" in command
    assert url.startswith("http://127.0.0.1:") and "token=" in url


def test_bots_play_and_the_leaks_show_on_the_console(demo):
    proc, url, port, path_file, _ = demo
    before = _api(url, "leaks", view="orphans", per=500)["rows"]
    sent, received = _play(path_file, port, bots=3)
    assert sent > 10 and received >= sent      # every event goes to every bot
    after = _api(url, "leaks", view="orphans", per=500)["rows"]
    # encode_event leaks one list per event: at least one per command sent.
    assert _count(after, "list") - _count(before, "list") >= sent
    # The server is still fine.
    s, f = _join(port, b"alice")
    with s:
        f.write(b"WHO\n")
        f.flush()
        assert _expect(f, b"WHO ").startswith(b"WHO alice@16,16")


def test_a_connected_players_history_is_held_externally(demo):
    proc, url, port, path_file, _ = demo
    s, f = _join(port, b"walker")
    with s:
        f.write(b"MOVE 1 0\n" * 50)
        f.flush()
        for _ in range(50):
            _expect(f, b"MOVE walker")
        rows = _api(url, "leaks", view="external", per=500)["rows"]
        lists = [r for r in rows if r["type"] == "list"]
        # remember_position took one extra reference to the history per move.
        assert lists and max(r["excess"] for r in lists) >= 50


@pytest.mark.parametrize("payload, answer", [
    (b"SAY hi before a name\n", b"ERROR first send NAME"),
    (b"NAME two words\n", b"ERROR first send NAME"),
    (b"NAME \xff\xfe\n", b"ERROR lines must be UTF-8"),
    (b"NAME " + b"x" * 100 + b"\n", b"ERROR first send NAME"),
    (b"NAME\n", b"ERROR first send NAME"),
    (b"\n", b"ERROR first send NAME"),
    (b"x" * 600, b"ERROR line too long"),
])
def test_bad_input_before_joining(demo, payload, answer):
    proc, url, port, path_file, _ = demo
    with socket.create_connection(("127.0.0.1", port),
                                  timeout=scaled(10)) as s:
        f = s.makefile("rwb")
        f.readline()
        f.write(payload)
        f.flush()
        assert f.readline().startswith(answer)
    sent, _ = _play(path_file, port, seconds=0.5, bots=1)
    assert sent > 0 and proc.poll() is None


@pytest.mark.parametrize("payload, answer", [
    (b"MOVE 5 5\n", b"ERROR MOVE takes"),
    (b"MOVE one two\n", b"ERROR MOVE takes"),
    (b"MOVE 1\n", b"ERROR MOVE takes"),
    (b"DANCE\n", b"ERROR unknown command"),
    (b"NAME again\n", b"ERROR unknown command"),
    (b"SAY \xc3\x28\n", b"ERROR lines must be UTF-8"),
])
def test_bad_input_after_joining(demo, payload, answer):
    proc, url, port, path_file, _ = demo
    s, f = _join(port, b"eve")
    with s:
        f.write(payload)
        f.flush()
        _expect(f, answer)
        f.write(b"WHO\n")
        f.flush()
        assert b"eve@" in _expect(f, b"WHO ")


def test_a_taken_name_is_refused(demo):
    proc, url, port, path_file, _ = demo
    s, f = _join(port, b"zed")
    with s, socket.create_connection(("127.0.0.1", port),
                                     timeout=scaled(10)) as t:
        g = t.makefile("rwb")
        g.readline()
        g.write(b"NAME zed\n")
        g.flush()
        assert g.readline().startswith(b"ERROR that name is taken")


def test_a_client_that_vanishes_mid_game_leaves_the_world(demo):
    proc, url, port, path_file, _ = demo
    s, f = _join(port, b"watcher")
    with s:
        ghost, ghost_file = _join(port, b"ghost")
        ghost.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                         struct.pack("ii", 1, 0))
        ghost_file.close()
        ghost.close()                          # an abortive close: RST
        _expect(f, b"LEAVE ghost")
        f.write(b"WHO\n")
        f.flush()
        assert b"ghost" not in _expect(f, b"WHO ")


def test_ctrl_c_stops_the_demo_cleanly(demo):
    proc, url, port, path_file, _ = demo
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=scaled(20))
    assert proc.returncode == 0, err
    assert "pyhost demo: stopped" in err
    assert "Traceback" not in err


PROBE = pathlib.Path(__file__).resolve().parents[1] / "console" / \
    "probe_client.py"


def _probe_load(url, n):
    """n console requests over 8 keep-alive connections (one Python page in
    ten), from the console tests' probe client; returns its report."""
    base, token = url.split("/?token=")
    env = {k: v for k, v in os.environ.items()
           if k not in ("LD_PRELOAD", "ASAN_OPTIONS", "UBSAN_OPTIONS")}
    proc = subprocess.run([sys.executable, str(PROBE), "load",
                           base.rsplit(":", 1)[1], token, str(n), "8"],
                          capture_output=True, text=True, env=env,
                          timeout=scaled(300))
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_console_under_load_while_bots_play(demo):
    proc, url, port, path_file, _ = demo
    bots = subprocess.Popen(
        [str(LAUNCHER), "--paths", str(path_file), "-m", "pyhost.demo.client",
         "--port", str(port), "--bots", "5"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=_default_sigint)
    try:
        warm = _probe_load(url, 2_000)
        rss0 = _api(url, "process")["rss_kb"]
        rest = _probe_load(url, 8_000)
        rss1 = _api(url, "process")["rss_kb"]
        assert bots.poll() is None, bots.communicate()
    finally:
        bots.send_signal(signal.SIGINT)
        out, err = bots.communicate(timeout=scaled(30))
    assert bots.returncode == 0, err
    assert warm["statuses"] == {"200": 2_000}, warm["statuses"]
    assert rest["statuses"] == {"200": 8_000}, rest["statuses"]
    assert int(re.findall(r"received (\d+) events", out)[-1]) > 0
    # The demo leaks on purpose (a list per game event, about 100 bytes):
    # a few hundred kB at this traffic.  Anything the console kept per
    # request would be megabytes after 8,000 of them.
    if not SANITIZED:
        assert rss1 - rss0 < 4096, (rss0, rss1)
