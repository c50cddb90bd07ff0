"""Benchmark ipvkg's default build path stage by stage, beside the naive rdflib + pyshacl path.

    python bench/run.py                 # N = 1,000 / 10,000 / 100,000 studies; naive path at 1,000 and 10,000
    python bench/run.py --quick         # N = 1,000 only, 60 s limits: a few minutes
    python bench/run.py --sizes 10000 --naive-sizes 10000 --limit 600

For every N, synthetic studies are generated once (``bench/generate.py``, seed 1, cached in
``--work``), then every stage runs in its own subprocess, so that its peak memory (the whole process
tree's proportional set size, sampled every 0.5 s; and ``getrusage`` maxrss) is its own:

* ``build``: the real ``ipvkg build`` (CLI defaults: reasoner auto, pictures, all cores), total wall time;
* ``records``: records -> RDF -> Oxigraph store (what the build does first); naive: records -> rdflib Graph;
* ``validate``: SHACL, compiled to SPARQL on Oxigraph; naive: pyshacl on the whole rdflib graph;
* ``classify``: the review groups (``classify(store, "auto")``); naive: HermiT on every intervention at once;
* ``queries``: every competency question of ``queries/`` on the default store (``memory:BUILD``), one after
  the other in one process as ``ipvkg query`` answers them; naive: rdflib SPARQL on an rdflib Dataset, each
  question in a forked process stopped after ``--query-limit``;
* ``pictures``: network + gap map (``ipvkg.pictures.pictures.write_pictures``); naive: the same on rdflib.

A naive stage still running after ``--limit`` seconds is stopped and reported as "> limit". The
classification benchmark (issue 4) times HermiT (all interventions in one run, and in batches) and
the rules on the shipped data and on 1,000 and 10,000 synthetic interventions. Results: a table on stdout, ``bench/results/<time>.json`` (to compare
runs) and ``bench/results/<time>.md`` (the tables as Markdown).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from ipvkg.store.store import GraphStore  # noqa: E402 - the naive store is one more place that holds the graph
BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"
SEED = 1

# the targets (issue 9), for the default `ipvkg build` path on a 2-core machine
TARGETS = {"build_10k_s": 15.0, "ratio_10k": 20.0, "build_100k_s": 150.0, "peak_100k_gb": 4.0,
           "query_max_100k_s": 1.0, "query_median_100k_s": 0.2}
CHILD_FLAGS: list[str] = []  # options every stage process gets (query limit, rewrites)
# values for required question parameters (a question needing a remote endpoint is skipped)
PARAM_VALUES = {"outcome": "depression", "components": "advocacy", "design": "RCT", "settings": "shelter",
                "characteristics": "pregnant", "targets": "community", "integer": "0", "decimal": "0"}


# --- the parent: subprocesses, memory, tables ----------------------------------------------------------------
def _tree_memory(root: int) -> int:
    """Memory of a process and all its descendants (Linux /proc), in bytes; 0 where unavailable.

    Proportional set size (each shared page divided among the processes sharing it): a build forks
    workers that share the parent's pages, and summing their resident sizes would count those pages
    once per process. Resident size where PSS is not available.
    """
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as fh:
                fields = fh.read().rsplit(b")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(entry.name))
        except (OSError, IndexError, ValueError):
            continue
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += _process_memory(pid)
        todo += children.get(pid, [])
    return total


def _process_memory(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as fh:
            for line in fh:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        with open(f"/proc/{pid}/statm", "rb") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


class _Stop:
    """SIGTERM and SIGINT end the bench through ``sys.exit`` (so ``run_stage`` stops its stage), held while one starts."""

    def __init__(self) -> None:
        self.holding = False
        self.held: int | None = None

    def __call__(self, signum: int, frame: object) -> None:
        if self.holding:
            self.held = signum
        else:
            sys.exit(128 + signum)

    def raise_held(self) -> None:
        if self.held is not None:
            sys.exit(128 + self.held)


_STOP = _Stop()


def _sample(pid: int, peak: list[int], done: threading.Event, memory: bool) -> None:
    """Peak tree memory of the stage, until ``done``."""
    # reading PSS walks the stage's page tables holding its memory-map lock: twice a second, not more
    while not done.wait(0.5):
        if memory:
            peak[0] = max(peak[0], _tree_memory(pid))


def run_stage(args: list[str], limit: float | None, label: str, memory: bool = True) -> dict[str, Any]:
    """Run ``bench/run.py --stage ...`` in its own session; wall time, peak tree memory, its JSON answer.

    Without ``memory`` nothing samples the stage: reading PSS walks its page tables under their lock,
    which slows what it samples (bench/README.md, Decisions).
    """
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as fh:
        answer = Path(fh.name)
    cmd = [sys.executable, str(Path(__file__).resolve()), *args, *CHILD_FLAGS, "--answer", str(answer)]
    print(f"  {label} ...", end="", flush=True, file=sys.stderr)
    env = dict(os.environ, PYTHONPATH=str(ROOT), IPVKG_PROGRESS="0")
    peak = [0]
    done = threading.Event()
    sampler = threading.Thread(target=lambda: _sample(proc.pid, peak, done, memory), daemon=True)
    start = time.perf_counter()
    _STOP.holding = True  # a signal between the fork and the try below would leave the stage running on its own
    try:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
                                start_new_session=True)
    finally:
        _STOP.holding = False
    status = "ok"
    try:
        _STOP.raise_held()
        sampler.start()
        _, err = proc.communicate(timeout=limit)
    except subprocess.TimeoutExpired:
        status = "timeout"
        os.killpg(proc.pid, signal.SIGKILL)  # the stage's own process group (workers, java), by its id
        _, err = proc.communicate()
    finally:  # the bench itself stopped (Ctrl-C, SIGTERM): its stage, in its own session, would run on
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        done.set()
    wall = time.perf_counter() - start
    sampler.join()
    result: dict[str, Any] = {"status": status, "wall": wall, "limit": limit}
    if memory:
        result["peak_mb"] = peak[0] / 2**20
    if status == "ok" and proc.returncode != 0:
        result["status"] = "error"
        result["error"] = (err or b"").decode(errors="replace").strip().splitlines()[-1:] or ["?"]
    if answer.exists() and answer.stat().st_size:
        result.update(json.loads(answer.read_text()))
    answer.unlink(missing_ok=True)
    shown = f"> {limit:g} s (stopped)" if status == "timeout" else (
        f"{result.get('seconds', wall):.2f} s" + (f", {result['peak_mb']:,.0f} MB" if memory else " (not sampled)")
        if result["status"] == "ok"
        else f"failed: {result.get('error')}")
    print(f" {shown}", file=sys.stderr, flush=True)
    return result


def derive(size: dict[str, Any]) -> dict[str, Any]:
    """The figures computed from one size's measurements: stopped questions' lower bounds, the naive total."""
    _stopped_questions(size["fast"].get("queries", {}))
    naive = size.get("naive")
    if naive:
        _stopped_questions(naive.get("queries", {}))
        stopped = any(r["status"] == "timeout" for r in naive.values())
        total = sum(r.get("seconds", r["limit"]) if r["status"] != "timeout" else r["limit"] for r in naive.values())
        size["naive_total"] = {"status": "timeout" if stopped else "ok", "seconds": total, "limit": total,
                               "peak_mb": max(r.get("peak_mb", 0) for r in naive.values())}
    return size


def _stopped_questions(r: dict[str, Any]) -> dict[str, Any]:
    """A questions stage with stopped questions took at least the time it ran: the finished questions plus
    the time each stopped one ran before it was stopped (questions never started add nothing). Idempotent."""
    if r.get("stopped") or r.get("not_started"):
        r["status"] = "timeout"
        ran = r.get("allotted", {name: float(r.get("limit_each", 0)) for name in r.get("stopped", [])})
        r["limit"] = r.get("seconds", 0) + sum(ran.values())
    return r


def dataset(n: int, work: Path, fmt: str = "csv") -> Path:
    """The synthetic data directory for ``n`` studies as extraction sheets (csv) or one YAML file per study
    (generated once per seed, size and format)."""
    sys.path.insert(0, str(BENCH))
    from generate import write_dataset

    out = work / (f"n{n}" if fmt == "csv" else f"{fmt}{n}")
    manifest = out / "manifest.json"
    if manifest.exists():
        m = json.loads(manifest.read_text())
        if m.get("studies") == n and m.get("seed") == SEED and not m.get("errors") and m.get("format", "csv") == fmt:
            return out
    print(f"generating {n:,} studies into {out} ...", file=sys.stderr, flush=True)
    write_dataset(out, n, seed=SEED, fmt=fmt)
    return out


BUILD_STEPS = ("load+validate", "classify", "files", "queries", "pictures", "commit")


def _step_order(item: tuple[str, float]) -> tuple[int, bool, str]:
    """A build's timings in the order of its stages, each stage before its parts (results files sort keys)."""
    head = item[0].split(":")[0].split(" (")[0]
    return (BUILD_STEPS.index(head) if head in BUILD_STEPS else len(BUILD_STEPS), item[0] != head, item[0])


def _median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the median time (a stopped or failed run counts as the slowest), with every run's seconds."""
    def key(r: dict[str, Any]) -> float:
        return r["seconds"] if r.get("status") == "ok" and "seconds" in r else float("inf")

    ordered = sorted(runs, key=key)
    chosen = dict(ordered[(len(ordered) - 1) // 2])
    chosen["runs_seconds"] = [r.get("seconds") for r in runs]
    return chosen


def fmt_s(r: dict[str, Any] | None, limit: float | None = None) -> str:
    if not r:
        return "-"
    if r.get("status") == "timeout":
        return f"> {limit or r.get('limit', 0):.0f}"
    if r.get("status") != "ok":
        return "failed"
    return f"{r['seconds']:.2f}" if r["seconds"] < 100 else f"{r['seconds']:.0f}"


def fmt_mb(r: dict[str, Any] | None) -> str:
    return "-" if not r or "peak_mb" not in r else f"{r['peak_mb']:,.0f}"


def ratio(naive: dict[str, Any] | None, fast: dict[str, Any] | None) -> str:
    if not naive or not fast or fast.get("status") != "ok" or not fast.get("seconds"):
        return "-"
    if naive.get("status") == "timeout":
        return f"> {naive['limit'] / fast['seconds']:.0f}x"
    if naive.get("status") != "ok":
        return "-"
    return f"{naive['seconds'] / fast['seconds']:.0f}x" if naive["seconds"] >= fast["seconds"] \
        else f"{naive['seconds'] / fast['seconds']:.2f}x"


STAGES = [("records", "records -> RDF (+ Oxigraph store)"), ("validate", "SHACL validation"),
          ("classify", "classification"), ("queries", "all competency questions"),
          ("pictures", "network + gap map"), ("build", "total (ipvkg build)")]


def markdown(results: dict[str, Any]) -> str:
    """The results as Markdown tables (the README's performance section)."""
    out = []
    for key, size in results["sizes"].items():
        n = int(key)
        fast, naive = size["fast"], size.get("naive", {})
        records = {"csv": "", "yaml": ", one YAML file each"}[results.get("format", "csv")]
        out.append(f"**N = {n:,} studies**{records} ({size['triples']:,} triples, {size['interventions']:,} "
                   f"interventions, {size['findings']:,} findings)\n")
        out.append("| stage | ipvkg (s) | peak MB | naive (s) | naive peak MB | speed-up |")
        out.append("|---|---:|---:|---:|---:|---:|")
        for stage, label in STAGES:
            f = fast.get(stage)
            nv = naive.get(stage) if stage != "build" else size.get("naive_total")
            out.append(f"| {label} | {fmt_s(f)} | {fmt_mb(f)} | {fmt_s(nv) if naive else '-'} | "
                       f"{fmt_mb(nv) if naive else '-'} | {ratio(nv, f) if naive else '-'} |")
        b = fast.get("build", {})
        runs_seconds = b.get("runs_seconds") or []
        # results before 2026-11-28 have no "unsampled_runs": their single run above 10,000 was the sampled one
        if b.get("unsampled_runs", len(runs_seconds) if len(runs_seconds) > 1 else 0):
            each = ", ".join("stopped" if x is None else f"{x:.1f}" for x in runs_seconds)
            how = (f"the median of {len(runs_seconds)} runs ({each} s)" if len(runs_seconds) > 1
                   else f"one run ({each} s)")
            out.append(f"\nWhole build: {how}"
                       + (f", not sampled for memory; its peak memory from one more run, sampled "
                          f"({b['sampled_seconds']:.1f} s)." if b.get("sampled_seconds") else "."))
        if b.get("timings"):
            steps = ", ".join(f"{k} {v:.1f}" for k, v in sorted(b["timings"].items(), key=_step_order)
                              if k != "total")
            out.append(f"\nInside the build (s): {steps}.")
        q = fast.get("queries", {})
        if q.get("questions") or q.get("stopped"):
            times = dict(q.get("questions", {}))
            for name in q.get("stopped", []):
                times[name] = float(q["limit_each"])  # at least
            slow = sorted(((t, name) for name, t in times.items() if t > 1), reverse=True)
            stopped = set(q.get("stopped", []))
            one = "one process, " if q.get("how") == "in one process" else ""
            out.append(f"\nCompetency questions ({len(times)}, {one}on `memory:` after a {q.get('load_seconds', 0):.1f} s "
                       f"load): median {statistics.median(times.values()) * 1000:.0f} ms, max "
                       f"{'> ' if stopped else ''}{max(times.values()):.2f} s"
                       + ("; over 1 s: " + ", ".join(f"{name} {'> ' if name in stopped else ''}{t:.1f} s"
                                                     for t, name in slow) if slow else "") + ".")
            if fp := q.get("first_page"):
                out.append(f"First page of `{fp['question']}` ({', '.join(f'{k}={v}' for k, v in fp['params'].items())}, "
                           f"`--limit {fp['limit']}`): {fp['seconds'] * 1000:.0f} ms for rows 1-{fp['rows']} of "
                           f"{fp['total']:,} (the total counted in the same pass).")
            if q.get("kept"):
                fresh = q.get("fresh", {})
                slow = sorted(((t, name) for name, t in fresh.items() if t > 1), reverse=True)
                out.append(f"Of these, {len(q['kept'])} were answered from the answers the build kept "
                           f"(`build/answers/`, used while they provably hold): {', '.join(sorted(q['kept']))}. "
                           f"Every question asked of the graph instead (`--fresh`): median "
                           f"{statistics.median(fresh.values()) * 1000:.0f} ms, max {max(fresh.values()):.2f} s"
                           + ("; over 1 s: " + ", ".join(f"{name} {t:.1f} s" for t, name in slow) if slow else "")
                           + ".")
        nq = naive.get("queries", {})
        if nq:
            done, stopped_n, unstarted = len(nq.get("questions", {})), len(nq.get("stopped", [])), len(nq.get("not_started", []))
            out.append(f"Naive (rdflib SPARQL, after a {nq.get('load_seconds', 0):.0f} s load): {done} of "
                       f"{done + stopped_n + unstarted} questions finished, {stopped_n} stopped after running "
                       f"{nq.get('limit_each', 0):.0f} s or the rest of the stage's {results.get('limit', 0):.0f} s"
                       + (f", {unstarted} not started (the stage's time was spent; their time is not counted)"
                          if unstarted else "") + ".")
        out.append("")
    if results.get("validation"):
        compiled = {r["studies"]: r for r in results["validation"] if r["validator"] == VALIDATORS["compiled"]}
        out += _table("**SHACL validation paths (issue 23 §5)**: ipvkg's shapes on the same triples",
                      ["studies", "triples", "path", "seconds", "peak MB", "results", "vs compiled"], "rrlrrrr",
                      [[f"{r['studies']:,}", f"{r['triples']:,}", r["validator"],
                        fmt_s(r) if r.get("status") != "error" else f"failed: {' '.join(r.get('error', []))[:80]}",
                        fmt_mb(r), f"{r['results']:,}" if "results" in r else "-",
                        ratio(r, compiled.get(r["studies"]))] for r in results["validation"]])
    for v in results.get("virtuoso", []):
        ours = (v["embedded"].get("fresh") or {})
        title = (f"**Virtuoso 7, N = {v['studies']:,} studies** ({v['triples']:,} quads in `dataset.nq`): bulk load "
                 f"(`ld_dir`, `rdf_loader_run`, `checkpoint`) {v['load_seconds']:.1f} s, database files "
                 f"{v['disk_mb']:.0f} MB, server memory {v['loaded_mb']:.0f} MB after the load, peak "
                 f"{v['peak_mb']:.0f} MB after the questions. Each question asked of the graph (no kept answers), "
                 f"stopped after {v['limit_each']:.0f} s; skipped: {', '.join(sorted(v['skipped'])) or 'none'}.")
        rows = v["embedded"].get("rows") or {}
        out += _table(title, ["question", "embedded (ms)", "Virtuoso (ms)", "rows embedded", "rows Virtuoso"], "lrrrr",
                      [[name, f"{ours[name] * 1000:.0f}" if name in ours else "-",
                        "stopped" if name in v["stopped"] else f"{v['questions'][name] * 1000:.0f}",
                        f"{rows[name]:,}" if name in rows else "-",
                        f"{v['rows'][name]:,}" if name in v.get("rows", {}) else "-"]
                       for name in sorted(set(v["questions"]) | set(v["stopped"]))])
    if results.get("classification"):
        out += _table("**Classification (issue 4)**: HermiT (owlready2) vs the closed-world rules, same types",
                      ["data", "interventions", "reasoner", "seconds", "peak MB (Python + Java)"], "lrlrr",
                      [[r["data"], f"{r.get('interventions', '-'):,}", r["reasoner"], fmt_s(r), fmt_mb(r)]
                       for r in results["classification"]])
    if results.get("targets"):
        out += _table("**Targets** (issue 9, this machine)", ["target", "measured", "limit", "met"], "lrrl",
                      [[t["name"], t["measured"], t["limit"], "yes" if t["met"] else "no"] for t in results["targets"]])
    return "\n".join(out)


def _table(title: str, header: list[str], align: str, rows: list[list[str]]) -> list[str]:
    """A titled Markdown table (``align``: one l or r per column), then a blank line."""
    lines = [title + "\n", "| " + " | ".join(header) + " |",
             "|" + "|".join("---:" if a == "r" else "---" for a in align) + "|"]
    return lines + ["| " + " | ".join(row) + " |" for row in rows] + [""]


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    sizes = results["sizes"]

    def build(n: int) -> dict[str, Any] | None:
        return sizes.get(str(n), {}).get("fast", {}).get("build")

    if (b := build(10_000)) and b.get("status") == "ok":
        out.append({"name": "N=10,000: whole build", "measured": f"{b['seconds']:.1f} s",
                    "limit": f"{TARGETS['build_10k_s']:g} s", "met": b["seconds"] <= TARGETS["build_10k_s"]})
        nt = sizes["10000"].get("naive_total")
        if nt:
            r = (nt["limit"] if nt["status"] == "timeout" else nt["seconds"]) / b["seconds"]
            out.append({"name": "N=10,000: faster than the naive path", "measured":
                        f"{'> ' if nt['status'] == 'timeout' else ''}{r:.0f}x", "limit": f"{TARGETS['ratio_10k']:g}x",
                        "met": r >= TARGETS["ratio_10k"]})
    if (b := build(100_000)) and b.get("status") in ("ok", "timeout"):
        ok = b.get("status") == "ok"
        out.append({"name": "N=100,000: whole build", "measured": f"{b['seconds']:.0f} s" if ok else "stopped",
                    "limit": f"{TARGETS['build_100k_s']:g} s", "met": ok and b["seconds"] <= TARGETS["build_100k_s"]})
        out.append({"name": "N=100,000: peak memory", "measured": f"{b['peak_mb'] / 1024:.1f} GB",
                    "limit": f"{TARGETS['peak_100k_gb']:g} GB", "met": b["peak_mb"] / 1024 <= TARGETS["peak_100k_gb"]})
    q = sizes.get("100000", {}).get("fast", {}).get("queries", {})
    if q.get("questions"):
        times = list(q["questions"].values()) + [float(q["limit_each"])] * len(q.get("stopped", []))
        out.append({"name": "N=100,000: slowest competency question",
                    "measured": f"{'> ' if q.get('stopped') else ''}{max(times):.2f} s",
                    "limit": f"{TARGETS['query_max_100k_s']:g} s", "met": max(times) <= TARGETS["query_max_100k_s"]})
        med = statistics.median(times)
        out.append({"name": "N=100,000: median competency question", "measured": f"{med * 1000:.0f} ms",
                    "limit": f"{TARGETS['query_median_100k_s'] * 1000:g} ms",
                    "met": med <= TARGETS["query_median_100k_s"]})
        if q.get("kept") and q.get("fresh"):  # the same two, every question asked of the graph
            fresh = list(q["fresh"].values())
            out.append({"name": "N=100,000: slowest question, asked of the graph", "measured": f"{max(fresh):.2f} s",
                        "limit": f"{TARGETS['query_max_100k_s']:g} s", "met": max(fresh) <= TARGETS["query_max_100k_s"]})
            med = statistics.median(fresh)
            out.append({"name": "N=100,000: median question, asked of the graph", "measured": f"{med * 1000:.0f} ms",
                        "limit": f"{TARGETS['query_median_100k_s'] * 1000:g} ms",
                        "met": med <= TARGETS["query_median_100k_s"]})
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default="1000,10000,100000", help="numbers of studies (comma-separated)")
    p.add_argument("--naive-sizes", default="1000,10000", help="sizes at which to run the naive path too")
    p.add_argument("--limit", type=float, default=300, help="seconds before a naive stage is stopped")
    p.add_argument("--classify-sizes", default="1000,10000", help="synthetic interventions for the HermiT bench "
                   "('' to skip)")
    p.add_argument("--classify-limit", type=float, default=600, help="seconds before a HermiT run is stopped")
    p.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "ipvkg-bench",
                   help="where generated data and builds go (default: $TMPDIR/ipvkg-bench)")
    p.add_argument("--build-limit", type=float, default=1800, help="seconds before a stage of ipvkg's path is stopped")
    p.add_argument("--query-limit", type=float, default=120, help="seconds before one competency question is stopped")
    p.add_argument("--rewrites", action="store_true", help="what-if: answer the questions in bench/rewrites/ with "
                   "those files (faster forms proposed for queries/)")
    p.add_argument("--format", choices=["csv", "yaml"], default="csv",
                   help="record files of the synthetic data: extraction sheets (default) or one YAML file per study")
    p.add_argument("--quick", action="store_true", help="N = 1,000 only, naive and HermiT limits 60 s")
    p.add_argument("--name", default=None, help="results file name (default: the start time)")
    p.add_argument("--repeat", type=int, default=3, help="runs of the whole build at each size (the median is "
                   "reported)")
    p.add_argument("--stage", help=argparse.SUPPRESS)
    p.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--state", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--n", type=int, help=argparse.SUPPRESS)
    p.add_argument("--reasoner", help=argparse.SUPPRESS)
    p.add_argument("--answer", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--budget", type=float, help=argparse.SUPPRESS)
    p.add_argument("--validators", action="store_true", help="time the SHACL validation paths only (compiled engine, "
                   "pyshacl on rdflib, pyshacl on an Oxigraph store) at --sizes, each stopped after --limit")
    p.add_argument("--validator", help=argparse.SUPPRESS)
    p.add_argument("--server", choices=["virtuoso"], default=None,
                   help="time the build bulk-loaded into Virtuoso 7 (load, disk, memory) and every question there "
                   "beside the embedded store, at each of --sizes (needs virtuoso-t and isql-vt)")
    p.add_argument("--report", type=Path, help="recompute the figures and tables of a results file (.json) and "
                   "write its .md again")
    a = p.parse_args(argv)
    if a.report:
        results = json.loads(a.report.read_text())
        for size in results["sizes"].values():
            derive(size)
        results["targets"] = targets(results)
        a.report.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
        a.report.with_suffix(".md").write_text(markdown(results) + "\n")
        print(markdown(results))
        return 0
    if a.stage:
        if a.rewrites:
            _use_rewrites()
        return child(a)
    # stopped with SIGTERM (kill, a CI's timeout) or Ctrl-C: unwind through sys.exit, so that run_stage stops its stage
    signal.signal(signal.SIGTERM, _STOP)
    signal.signal(signal.SIGINT, _STOP)
    if a.quick:
        a.sizes, a.naive_sizes, a.limit, a.classify_sizes, a.classify_limit = "1000", "1000", 60, "1000", 60
    CHILD_FLAGS[:] = ["--query-limit", str(a.query_limit)] + (["--rewrites"] if a.rewrites else [])
    sizes = [int(x) for x in a.sizes.split(",") if x]
    naive_sizes = {int(x) for x in a.naive_sizes.split(",") if x}
    a.work.mkdir(parents=True, exist_ok=True)
    started = time.strftime("%Y-%m-%dT%H%M%S")
    import pyoxigraph
    import pyshacl
    import rdflib

    results: dict[str, Any] = {
        "started": started, "command": "python bench/run.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                    "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)},
        "versions": {"pyoxigraph": pyoxigraph.__version__, "rdflib": rdflib.__version__,
                     "pyshacl": pyshacl.__version__},
        "limit": a.limit, "build_limit": a.build_limit, "query_limit": a.query_limit, "rewrites": a.rewrites,
        "sizes": {}, "classification": [], "format": a.format,
    }
    if a.validators:
        return _validators(results, sizes, a, started)
    if a.server == "virtuoso":
        return _virtuoso(results, sizes, a, started)
    builds: dict[int, Path] = {}
    for n in sizes:
        data = dataset(n, a.work, a.format)
        manifest = json.loads((data / "manifest.json").read_text())
        tag = "" if a.format == "csv" else "-" + a.format
        out, state = a.work / f"build{n}{tag}", a.work / f"state{n}{tag}"
        print(f"N = {n:,} studies", file=sys.stderr)
        fast: dict[str, Any] = {}
        # the whole build: the median of unsampled runs (one run is within this machine's drift of a target),
        # memory from one more run, since sampling slows what it samples (figures: bench/README.md, Decisions)
        build_args = ["--stage", "build", "--data", str(data), "--out", str(out)]
        runs = [run_stage(build_args, a.build_limit, "ipvkg build", memory=False) for _ in range(a.repeat)]
        sampled = run_stage(build_args, a.build_limit, "ipvkg build, memory sampled")
        fast["build"] = _median_run(runs or [sampled])
        fast["build"].update(peak_mb=sampled.get("peak_mb", 0), sampled_seconds=sampled.get("seconds"),
                             unsampled_runs=len(runs))
        builds[n] = out
        fast["records"] = run_stage(["--stage", "records", "--data", str(data), "--state", str(state)], a.build_limit,
                                    "records -> RDF -> store")
        fast["validate"] = run_stage(["--stage", "validate", "--state", str(state)], a.build_limit, "SHACL (SPARQL)")
        fast["classify"] = run_stage(["--stage", "classify", "--out", str(out)], a.build_limit, "classification")
        fast["queries"] = run_stage(["--stage", "queries", "--out", str(out)], a.build_limit, "competency questions")
        fast["pictures"] = run_stage(["--stage", "pictures", "--out", str(out)], a.build_limit, "network + gap map")
        size = {"studies": n, "triples": fast["records"].get("triples", 0),
                "interventions": manifest["interventions"], "findings": manifest["findings"], "fast": fast}
        if n in naive_sizes:
            naive: dict[str, Any] = {}
            for stage, label in (("naive-records", "records -> rdflib"), ("naive-validate", "pyshacl"),
                                 ("naive-classify", "HermiT"), ("naive-queries", "rdflib SPARQL"),
                                 ("naive-pictures", "pictures on rdflib")):
                # the naive questions run one by one, each stopped after --query-limit
                budget = ["--budget", str(a.limit)] if stage == "naive-queries" else []
                r = run_stage(["--stage", stage, "--data", str(data), "--state", str(state), "--out", str(out),
                               *budget], None if stage == "naive-queries" else a.limit, label)
                r["limit"] = a.limit
                naive[stage.split("-", 1)[1]] = r
            size["naive"] = naive
        results["sizes"][str(n)] = derive(size)
        _save(results, started, a.name)
    # classification (issue 4 item 7): shipped data, then synthetic interventions cut from the builds
    csizes = [int(x) for x in a.classify_sizes.split(",") if x]
    if csizes:
        print("classification: HermiT vs rules", file=sys.stderr)
        shipped_out = a.work / "build-shipped"
        run_stage(["--stage", "build", "--data", str(ROOT / "data"), "--out", str(shipped_out)], None,
                  "build of the shipped data")
        runs = [("shipped data", shipped_out, None)]
        for k in csizes:
            src = next((n for n in sorted(builds) if n >= k), None)
            if src is None:
                src = k
                run_stage(["--stage", "build", "--data", str(dataset(k, a.work)), "--out",
                           str(a.work / f"build{k}")], None, f"build of {k:,} studies")
                builds[k] = a.work / f"build{k}"
            runs.append((f"synthetic ({src:,} studies)", builds[src], k))
        from ipvkg.classify import HERMIT_BATCH

        names = {"hermit-one": "HermiT, all in one run", "hermit": f"HermiT, batches of {HERMIT_BATCH}",
                 "rules": "closed-world rules"}
        for label, out, k in runs:
            # HermiT in one run only up to 1,000 interventions: it grows faster than linearly
            for reasoner in (("hermit-one",) if (k or 0) <= 1000 else ()) + ("hermit", "rules"):
                args = ["--stage", "classify-bench", "--out", str(out), "--reasoner", reasoner]
                if k:
                    args += ["--n", str(k)]
                r = run_stage(args, a.classify_limit if reasoner != "rules" else None, f"{names[reasoner]}, {label}")
                r.update(data=label, reasoner=names[reasoner], limit=a.classify_limit)
                r.setdefault("interventions", k)
                results["classification"].append(r)
        _save(results, started, a.name)
    results["targets"] = targets(results)
    return _finish(results, started, a.name)


VALIDATORS = {"compiled": "compiled engine (SPARQL on Oxigraph)", "pyshacl-rdflib": "pyshacl on an rdflib Graph",
              "pyshacl-oxigraph-ont": "pyshacl on an Oxigraph Store, ontology as ont_graph",
              "pyshacl-oxigraph": "pyshacl on an Oxigraph Store, ontology loaded into the store"}


def _validators(results: dict[str, Any], sizes: list[int], a: argparse.Namespace, started: str) -> int:
    """Issue 23 §5: every SHACL validation path on the same records at every size, each stopped after --limit."""
    results["validation"] = []
    for n in sizes:
        data = dataset(n, a.work, a.format)
        state = a.work / f"state{n}{'' if a.format == 'csv' else '-' + a.format}"
        print(f"N = {n:,} studies", file=sys.stderr)
        records = run_stage(["--stage", "records", "--data", str(data), "--state", str(state)], a.build_limit,
                            "records -> RDF -> store")
        for key, label in VALIDATORS.items():
            r = run_stage(["--stage", "shacl-path", "--state", str(state), "--validator", key], a.limit, label)
            r.update(studies=n, triples=records.get("triples", 0), validator=label)
            results["validation"].append(r)
            _save(results, started, a.name)
    return _finish(results, started, a.name)


def _virtuoso(results: dict[str, Any], sizes: list[int], a: argparse.Namespace, started: str) -> int:
    """Issue 27 §6: each size's build bulk-loaded into a fresh Virtuoso 7 (tests/conftest.py's server, the
    documented recipe), and every question timed there beside the embedded store (both asked of the graph)."""
    sys.path.insert(0, str(ROOT / "tests"))
    from conftest import VirtuosoServer

    from ipvkg.store.store import SparqlEndpointStore

    results["virtuoso"] = []
    for n in sizes:
        data = dataset(n, a.work, a.format)
        out = a.work / f"build{n}"
        print(f"N = {n:,} studies", file=sys.stderr)
        build = run_stage(["--stage", "build", "--data", str(data), "--out", str(out)], a.build_limit, "ipvkg build",
                          memory=False)
        embedded = run_stage(["--stage", "queries", "--out", str(out)], a.build_limit, "questions, embedded")
        folder = a.work / f"virtuoso{n}"
        shutil.rmtree(folder, ignore_errors=True)
        server = VirtuosoServer(folder)
        try:
            t = time.perf_counter()
            server.load(out / "dataset.nq", "https://w3id.org/ipvkg/graph/unnamed")  # ld_dir, rdf_loader_run, checkpoint
            load = time.perf_counter() - t
            loaded_mb = _process_memory(server.proc.pid) / 2**20
            disk_mb = sum(f.stat().st_size for f in folder.glob("virtuoso*") if f.is_file()) / 2**20
            print(f"  Virtuoso load {load:.1f} s; asking every question", file=sys.stderr)
            asked = _questions(SparqlEndpointStore(server.url, timeout=a.query_limit), a.query_limit)
            peak_mb = _peak_mb(server.proc.pid)
        finally:
            server.stop()
        results["virtuoso"].append({
            "studies": n, "triples": sum(1 for _ in open(out / "dataset.nq", "rb")), "build": build,
            "load_seconds": load, "disk_mb": disk_mb, "loaded_mb": loaded_mb, "peak_mb": peak_mb,
            "embedded": {k: embedded.get(k) for k in ("fresh", "rows", "load_seconds", "status")},
            "questions": asked["questions"], "rows": asked["rows"], "stopped": asked["stopped"],
            "skipped": asked["skipped"],
            "limit_each": a.query_limit})
        _save(results, started, a.name)
    return _finish(results, started, a.name)


def _peak_mb(pid: int) -> float:
    """The process's peak resident memory so far (VmHWM), in MB."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            return next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:")) / 1024
    except (OSError, StopIteration, ValueError):
        return 0.0


def _finish(results: dict[str, Any], started: str, name: str | None) -> int:
    """Save the run's JSON, write its table beside it and print the table."""
    path = _save(results, started, name)
    text = markdown(results)
    path.with_suffix(".md").write_text(text + "\n")
    print(text)
    print(f"\nresults: {path} and {path.with_suffix('.md')}")
    return 0


def _save(results: dict[str, Any], started: str, name: str | None) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name or started}.json"
    path.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
    return path


# --- the children: one stage each ------------------------------------------------------------------------------
def _maxrss_mb(who: int) -> float:
    scale = 1 if sys.platform == "darwin" else 1024  # Linux reports KiB, macOS bytes
    return resource.getrusage(who).ru_maxrss * scale / 2**20


def child(a: argparse.Namespace) -> int:
    import gc

    from ipvkg.store.store import OxigraphStore

    answer: dict[str, Any] = {}
    stage = a.stage
    if stage == "build":
        from ipvkg.pipeline.build import build

        t = time.perf_counter()
        r = build(a.data, a.out, echo=lambda *x: None)  # the CLI's defaults (reasoner auto, pictures, parallelism auto)
        answer.update(seconds=time.perf_counter() - t, timings=r.timings, reasoner=r.classification.reasoner)
    elif stage == "records":
        import importlib

        from ipvkg.records.reviews import load_reviews
        from ipvkg.base.background import Parallelism
        from ipvkg.base.vocab import load_vocabulary

        b = importlib.import_module("ipvkg.pipeline.build")  # the module (ipvkg.build is the function)
        vocab = load_vocabulary()
        ontology = b.ontology_lines(vocab)
        t = time.perf_counter()
        with b.gc_paused():
            reviews, _ = load_reviews(a.data / "reviews")
            store = OxigraphStore()
            studies, problems, lines, origins, loaded = b._load_records([a.data / "studies"], reviews, None, vocab,
                                                                         Parallelism(), None, store)
            store = b._validation_store(lines, vocab, ontology, store if loaded else None)
        answer.update(seconds=time.perf_counter() - t, triples=len(lines), studies=len(studies))
        import pickle

        a.state.mkdir(parents=True, exist_ok=True)
        from ipvkg.rdf.rdffiles import write_run

        write_run(a.state / "data.nt", lines)  # streamed: the lines may be the workers' run files, merged
        (a.state / "ontology.nt").write_text("\n".join(ontology) + "\n")
        from ipvkg.rdf.rdf import StoredOrigins

        if isinstance(origins, StoredOrigins):  # the workers' files go with this process's temporary folder
            origins = StoredOrigins([Path(shutil.copy(p, a.state / p.name)) for p in origins.paths], origins.extra)
        with open(a.state / "origins.pkl", "wb") as fh:
            pickle.dump(origins, fh, protocol=pickle.HIGHEST_PROTOCOL)
    elif stage == "validate":
        import pickle

        from ipvkg.base import namespaces as ns
        from ipvkg.validate.validate import validate_lines

        gc.disable()
        lines = (a.state / "data.nt").read_text().splitlines()
        origins = pickle.loads((a.state / "origins.pkl").read_bytes())
        store = OxigraphStore()
        store.add_ntriples(lines, ns.DATA_GRAPH, trusted=True)
        store.add_ntriples((a.state / "ontology.nt").read_bytes(), ns.ONTOLOGY_GRAPH)
        t = time.perf_counter()
        problems = validate_lines(lines, origins, store=store.store, threads=os.cpu_count() or 1)
        answer.update(seconds=time.perf_counter() - t, problems=len(problems),
                      located=sum(1 for p in problems if p.line is not None))
    elif stage == "classify":
        from ipvkg.classify import classify

        store = _build_store(a.out, without=("inferred",))
        t = time.perf_counter()
        c = classify(store, "auto")
        answer.update(seconds=time.perf_counter() - t, reasoner=c.reasoner, interventions=len(c.facts))
    elif stage == "queries":
        t = time.perf_counter()
        from ipvkg.questions.kept import open_store

        store = open_store(f"memory:{a.out}")  # the default store of `ipvkg query`
        store.store  # noqa: B018 - load the graph now (a build's graph is loaded when first needed)
        load = time.perf_counter() - t
        answer.update(load_seconds=load, how="in one process")

        def report(figures: dict[str, Any]) -> None:  # a question ran over its time: what is known so far
            a.answer.write_text(json.dumps(dict(answer, **figures), default=str))

        answer.update(_questions(store, a.query_limit, report=report))
        answer.update(first_page=_first_page(store))
    elif stage == "pictures":
        from ipvkg.base.output import Staging
        from ipvkg.pictures.pictures import write_pictures

        store = _build_store(a.out)
        with tempfile.TemporaryDirectory() as tmp:
            with Staging(Path(tmp)) as staging:
                t = time.perf_counter()
                steps = write_pictures(store, staging)
                answer.update(seconds=time.perf_counter() - t, steps=steps)
    elif stage == "naive-records":
        import rdflib

        from ipvkg.rdf.rdf import records_to_ntriples
        from ipvkg.records.records import load_studies
        from ipvkg.records.reviews import load_reviews

        t = time.perf_counter()
        reviews, _ = load_reviews(a.data / "reviews")
        studies, _ = load_studies([a.data / "studies"])
        lines, _ = records_to_ntriples(studies, reviews)
        graph = rdflib.Graph()
        graph.parse(data="\n".join(lines), format="nt")
        answer.update(seconds=time.perf_counter() - t, triples=len(graph))
    elif stage == "naive-validate":
        import rdflib

        from ipvkg.validate.validate import load_shapes, shacl_results
        from ipvkg.base.vocab import load_vocabulary

        graph = rdflib.Graph()
        graph.parse(str(a.state / "data.nt"), format="nt")
        shapes, ontology = load_shapes(), load_vocabulary().graph
        t = time.perf_counter()
        found = shacl_results(graph, shapes, ontology)
        answer.update(seconds=time.perf_counter() - t, results=len(found))
    elif stage == "shacl-path":  # one of VALIDATORS on the records stage's triples; loading is not timed
        answer.update(_shacl_path(a.state, a.validator))
    elif stage == "naive-classify":
        from ipvkg.classify import hermit_types, intervention_facts

        store = _build_store(a.out, without=("inferred",))
        t = time.perf_counter()
        facts = intervention_facts(store)
        hermit_types(facts, batch=max(1, len(facts)))  # the naive way: every intervention in one HermiT run
        answer.update(seconds=time.perf_counter() - t, reasoner="hermit", interventions=len(facts))
    elif stage == "naive-queries":
        store = RdflibStore(a.out / "dataset.nq")
        answer.update(_questions(store, a.query_limit, a.budget), load_seconds=store.load_seconds)
    elif stage == "naive-pictures":
        from ipvkg.base.output import Staging
        from ipvkg.pictures.pictures import write_pictures

        store = RdflibStore(a.out / "dataset.nq")
        with tempfile.TemporaryDirectory() as tmp:
            with Staging(Path(tmp)) as staging:
                t = time.perf_counter()
                write_pictures(store, staging)
                answer.update(seconds=time.perf_counter() - t)
    elif stage == "classify-bench":
        from ipvkg.classify import definitions, hermit_types, intervention_facts, _signature, defined_types

        store = _build_store(a.out, without=("inferred",))
        facts = intervention_facts(store)
        if a.n:
            if len(facts) < a.n:
                raise SystemExit(f"{a.out} has only {len(facts)} interventions, fewer than {a.n}")
            facts = facts[:a.n]
        del store
        gc.collect()
        before = _maxrss_mb(resource.RUSAGE_SELF)
        t = time.perf_counter()
        if a.reasoner == "hermit":
            hermit_types(facts)
        elif a.reasoner == "hermit-one":
            hermit_types(facts, batch=max(1, len(facts)))
        else:  # what classify(store, "rules") does with the facts
            d = definitions()
            memo: dict = {}
            for f in facts:
                key = _signature(f)
                if key not in memo:
                    memo[key] = defined_types(f, d)
        answer.update(seconds=time.perf_counter() - t, interventions=len(facts),
                      python_mb=_maxrss_mb(resource.RUSAGE_SELF), python_mb_before=before,
                      java_mb=_maxrss_mb(resource.RUSAGE_CHILDREN))
    else:
        raise SystemExit(f"unknown stage {stage}")
    answer.setdefault("maxrss_mb", _maxrss_mb(resource.RUSAGE_SELF))
    answer.setdefault("children_maxrss_mb", _maxrss_mb(resource.RUSAGE_CHILDREN))
    a.answer.write_text(json.dumps(answer, default=str))
    return 0


def _shacl_path(state: Path, validator: str) -> dict[str, Any]:
    """Validate the data of ``state`` with ipvkg's shapes along one of :data:`VALIDATORS`; seconds and results."""
    import pyoxigraph as ox
    import pyshacl
    import rdflib
    from rdflib.namespace import SH

    from ipvkg.base import namespaces as ns
    from ipvkg.validate.validate import fast_results, load_shapes, shacl_results
    from ipvkg.base.vocab import load_vocabulary

    data, ontology_nt = (state / "data.nt").read_bytes(), (state / "ontology.nt").read_bytes()
    shapes = load_shapes()
    if validator == "compiled":
        store = ox.Store()
        store.bulk_load(data, format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(ns.DATA_GRAPH))
        store.bulk_load(ontology_nt, format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(ns.ONTOLOGY_GRAPH))
        t = time.perf_counter()
        found = len(fast_results(store, shapes, threads=os.cpu_count() or 1))
    elif validator == "pyshacl-rdflib":
        graph = rdflib.Graph()
        graph.parse(data=data.decode(), format="nt")
        ontology = load_vocabulary().graph
        t = time.perf_counter()
        found = len(shacl_results(graph, shapes, ontology))
    elif validator in ("pyshacl-oxigraph", "pyshacl-oxigraph-ont"):
        store = ox.Store()
        store.bulk_load(data, format=ox.RdfFormat.N_TRIPLES)
        ontology = None
        if validator == "pyshacl-oxigraph":
            store.bulk_load(ontology_nt, format=ox.RdfFormat.N_TRIPLES)
        else:
            ontology = load_vocabulary().graph
        t = time.perf_counter()
        _, report, _ = pyshacl.validate(store, shacl_graph=shapes, ont_graph=ontology, inference="none",
                                        advanced=True, allow_warnings=True)
        found = sum(1 for _ in report.objects(None, SH.result))
    else:
        raise SystemExit(f"unknown validator {validator}")
    return {"seconds": time.perf_counter() - t, "results": found}


def _build_store(out: Path, without: tuple[str, ...] = ()) -> Any:
    """The built dataset in an in-memory Oxigraph store, without the named graphs in ``without``."""
    import pyoxigraph as ox

    from ipvkg.base import namespaces as ns
    from ipvkg.store.store import OxigraphStore

    store = OxigraphStore()
    store.load_file(out / "dataset.nq")
    for name in without:
        store.store.remove_graph(ox.NamedNode(ns.GRAPH + name))
    return store


def _questions(store: Any, limit: float, budget: float | None = None,
               report: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
    """Time every competency question, stopped after ``limit`` seconds each.

    With ``report``, the questions run one after the other in this process, as ``ipvkg query`` runs them
    (a forked copy of a large store answers slower: its reads copy shared pages); a
    question still running after ``limit`` seconds ends the stage: ``report`` gets the figures so far
    and the process exits (the rest count as not started). Without it, each question runs in a forked
    process stopped after ``limit`` (the naive path, where stops are the rule). With ``budget``, no
    question starts once that many seconds are spent (the rest count as not started).
    """
    import multiprocessing

    from ipvkg.questions.queries import list_questions, run_question
    from ipvkg.base.vocab import load_vocabulary

    load_vocabulary()  # loaded once here, inherited by every forked question (parameters resolve labels)
    times: dict[str, float] = {}
    rows: dict[str, int] = {}
    skipped: dict[str, str] = {}
    stopped: list[str] = []  # started, and still running when its time was up
    not_started: list[str] = []  # the stage's budget was spent before its turn: nothing known of its time
    allotted: dict[str, float] = {}  # how long each stopped question ran before it was stopped
    fresh: dict[str, float] = {}  # in one process: each question asked of the graph too (``fresh=True``)
    kept: list[str] = []  # in one process: the questions answered from the answers the build kept
    ctx = multiprocessing.get_context("fork")
    asked: list[tuple[Any, dict[str, str]]] = []  # the questions to time, with their parameters
    for q in list_questions():
        params = {}
        for prm in q.params:
            if prm.required:
                if prm.kind not in PARAM_VALUES:
                    skipped[q.name] = f"needs --param {prm.name} ({prm.kind})"
                    break
                params[prm.name] = PARAM_VALUES[prm.kind]
        if q.name not in skipped:
            asked.append((q, params))
    for k, (q, params) in enumerate(asked):
        spent = sum(times.values()) + sum(allotted.values())
        if budget is not None and spent >= budget:
            not_started.append(q.name)
            continue
        wait = limit if budget is None else min(limit, max(1.0, budget - spent))
        if report is not None:
            figures = {"seconds": sum(times.values()), "questions": times, "rows": rows, "skipped": skipped,
                       "fresh": fresh, "kept": kept,
                       "stopped": [q.name], "allotted": {q.name: wait}, "limit_each": limit,
                       "not_started": [x.name for x, _ in asked[k + 1:]]}
            watchdog = threading.Timer(2 * wait, lambda: (report(figures), os._exit(0)))
            watchdog.start()
            t = time.perf_counter()
            table = run_question(store, q.name, params)  # as `ipvkg query` answers: kept answers where they hold
            times[q.name], rows[q.name] = time.perf_counter() - t, len(table)
            t = time.perf_counter()
            run_question(store, q.name, params, fresh=True)  # asked of the graph
            fresh[q.name] = time.perf_counter() - t
            watchdog.cancel()
            if table.source is not None:  # read from a kept file
                kept.append(q.name)
            continue
        receive, send = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_one_question, args=(store, q.name, params, send))
        proc.start()
        if receive.poll(wait):
            seconds, n = receive.recv()
            times[q.name], rows[q.name] = seconds, n
        else:
            stopped.append(q.name)
            allotted[q.name] = wait
            proc.kill()  # this question's own process, by its id
        proc.join()
    return {"seconds": sum(times.values()), "questions": times, "rows": rows, "skipped": skipped,
            "fresh": fresh, "kept": kept, "stopped": stopped, "allotted": allotted, "not_started": not_started, "limit_each": limit}


FIRST_PAGE = ("findings_for_outcome", {"within": "depression"}, 20)  # issue 22 §4: a listing's first page


def _first_page(store: Any) -> dict[str, Any]:
    """The first page of a listing as `ipvkg query NAME --limit 20` asks it: seconds, its rows and the total."""
    from ipvkg.questions.queries import run_question

    name, params, limit = FIRST_PAGE
    t = time.perf_counter()
    page = run_question(store, name, params, limit=limit)
    return {"question": name, "params": params, "limit": limit, "seconds": time.perf_counter() - t,
            "rows": len(page), "total": page.total}


def _one_question(store: Any, name: str, params: dict[str, str], send: Any) -> None:
    from ipvkg.questions.queries import run_question

    t = time.perf_counter()
    table = run_question(store, name, params)
    send.send((time.perf_counter() - t, len(table)))


def _use_rewrites() -> None:
    """Answer the questions that have a file in bench/rewrites/ with that file (a what-if, labelled as such)."""
    import ipvkg.questions.queries as queries

    original = queries.get_question

    def get_question(name: str):
        path = BENCH / "rewrites" / f"{name}.rq"
        question = original(str(path) if path.exists() else name)
        question.name = name
        return question

    queries.get_question = get_question


class RdflibStore(GraphStore):
    """The naive store: an rdflib Dataset (default graph = union of the graphs), queried by rdflib's engine."""

    selector = "rdflib:"

    def __init__(self, nquads: Path):
        import rdflib

        t = time.perf_counter()
        self.graph = rdflib.Dataset(default_union=True)
        self.graph.parse(str(nquads), format="nquads")
        self.load_seconds = time.perf_counter() - t

    def select(self, query: str, bindings=None, timeout=None):
        import rdflib

        from ipvkg.store.store import ResultTable, python_value, with_values

        result = self.graph.query(with_values(query, bindings or {}))
        variables = [str(v) for v in result.vars]
        rows = []
        for row in result:
            out = {}
            for v in variables:
                term = row[v] if v in row.labels else None
                if term is None:
                    out[v] = None
                elif isinstance(term, rdflib.URIRef):
                    out[v] = python_value("uri", str(term))
                elif isinstance(term, rdflib.BNode):
                    out[v] = python_value("bnode", str(term))
                else:
                    out[v] = python_value("literal", str(term), str(term.datatype) if term.datatype else None)
            rows.append(out)
        return ResultTable(variables, rows)

    def close(self) -> None:
        pass


if __name__ == "__main__":
    sys.exit(main())
