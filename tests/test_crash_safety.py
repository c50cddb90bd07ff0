"""A build killed with SIGKILL at any moment leaves build/ as it was or, once it switched, the whole new build:
never a partial file, never a mix of two builds."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pyoxigraph as ox

from conftest import ROOT, SMALL, tree_digest

KILL_AFTER = [0.3, 1.0, 2.0, 3.5, 5.0, 7.0]


def _build_cmd(data, out):
    return [sys.executable, "-m", "ipvkg", "build", "--data", str(data), "--out", str(out), "--no-pictures"]


def test_sigkill_at_random_moments_never_leaves_a_partial_build(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = tmp_path / "build"
    assert subprocess.run(_build_cmd(SMALL, out), env=env, capture_output=True).returncode == 0
    old = tree_digest(out)
    complete_new = tmp_path / "new"
    assert subprocess.run(_build_cmd(ROOT / "data", complete_new), env=env, capture_output=True).returncode == 0
    new = tree_digest(complete_new)
    assert old != new

    for delay in KILL_AFTER:
        proc = subprocess.Popen(_build_cmd(ROOT / "data", out), env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        now = tree_digest(out)
        for name, digest in now.items():
            assert digest in (old.get(name), new.get(name)), f"{name} is neither the old nor the new file " \
                                                                f"after a kill at {delay} s"
        assert now in (old, new), f"build/ is a mix of the old and the new build after a kill at {delay} s"
        # and what is there loads
        store = ox.Store()
        store.load(path=str(out / "dataset.nq"), format=ox.RdfFormat.N_QUADS)
        assert len(store) > 0
        # restore the previous build for the next kill point
        if now != old:
            assert subprocess.run(_build_cmd(SMALL, out), env=env, capture_output=True).returncode == 0

    # a later build cleans up what a killed one left behind
    assert subprocess.run(_build_cmd(SMALL, out), env=env, capture_output=True).returncode == 0
    assert not list(out.glob(".staging-*"))
    assert sorted(p.name for p in (out / ".builds").iterdir()) == sorted(["current", os.readlink(out / ".builds/current")])
