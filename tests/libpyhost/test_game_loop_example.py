# SPDX-License-Identifier: MIT
"""examples/embed/: the game loop, compiled against the installed libpyhost
and run with its own path file, from another working directory."""
import shutil

import pytest

import embedtools
from embedtools import DYNLOAD, REPO, STDLIB, run

EXAMPLE = REPO / "examples" / "embed"


@pytest.fixture(scope="module")
def game(tmp_path_factory):
    folder = tmp_path_factory.mktemp("game")
    exe = embedtools.compile_c([EXAMPLE / "game_loop.c"],
                               folder / "game_loop")
    shutil.copy2(EXAMPLE / "game._pth", folder)
    shutil.copytree(EXAMPLE / "game", folder / "game")
    return exe


def test_game_loop_calls_python_each_frame(game):
    p = run([game], cwd="/")
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[:5] == ["frame %d: ship at x=%.1f" % (n, 2.0 * n)
                         for n in range(1, 6)]
    assert "frames run: 5" in lines
    assert "sys.path: %s" % [STDLIB, DYNLOAD, str(game.parent / "game")] \
        in lines
    assert p.stderr == ""


def test_game_loop_reports_a_broken_path_file(game, tmp_path):
    broken = tmp_path / "game_loop"
    shutil.copy2(game, broken)
    (tmp_path / "game._pth").write_text("game\n")  # no game/ folder here
    p = run([broken])
    assert p.returncode == 1
    assert p.stderr == ("game: %s:1: '%s' does not exist\n"
                        % (tmp_path / "game._pth", tmp_path / "game"))
