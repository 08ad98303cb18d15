# SPDX-License-Identifier: MIT
"""The hostile-environment suite: every vector of embed_hostile.py runs
under the installed launcher (none may fire, sys.path must equal the path
file's list exactly, the program must succeed) and under plain python3,
where the vectors marked as positive controls must fire, which proves each
planted payload is real.  bench/hostile_environment.py prints the same
runs, under all four modes, as the README's table."""
import pytest

import embed_hostile as hostile

IDS = [name for name, _, _ in hostile.VECTORS]


@pytest.fixture(scope="module")
def lab(tmp_path_factory, launcher):
    return hostile.Lab(tmp_path_factory.mktemp("hostile"), launcher=launcher)


@pytest.mark.parametrize("name,setup,fires", hostile.VECTORS, ids=IDS)
def test_vector_does_not_fire_under_pyhost(lab, name, setup, fires):
    try:
        fired, rc, out = hostile.run_vector(lab, setup, "pyhost")
        assert not fired, "%s fired under pyhost:\n%s" % (name, out)
        assert rc == 0, out
        path = hostile.syspath_of(out)
        if path is not None:
            assert path == lab.expected_path
        if fires:
            fired, rc, out = hostile.run_vector(lab, setup, "python3")
            assert fired, ("positive control: %s should fire under plain "
                           "python3 on this machine:\n%s" % (name, out))
    finally:
        lab.cleanup()


def test_pyhost_flags_show_isolation(lab):
    """The flags a program can see say what pyhost guarantees."""
    code = ("import sys; f = sys.flags; print(f.isolated, "
            "f.ignore_environment, f.no_site, f.no_user_site, f.safe_path, "
            "f.dont_write_bytecode, 'site' in sys.modules, "
            "'sitecustomize' in sys.modules)")
    import embedtools
    p = embedtools.run([lab.launcher, "--paths", lab.pth, "-c", code])
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["1", "1", "1", "1", "True", "1", "False",
                                "False"]
