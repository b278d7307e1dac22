#!/usr/bin/env python3
"""The yearly corpus benchmark: 357 plans of ~30 pages and 20 interviews through `qualcode run`.

Generates the corpus once with the demo renderer (cached under ``bench/.cache/``), then
runs `qualcode run` on a copy into a fresh store and prints: wall and CPU seconds (main
process and workers apart), pages/s, segments/s, peak memory of the whole process tree
(RSS summed, and PSS, which counts pages shared by the forked workers once), the memory of
each process as the run goes (is it flat?), an unchanged re-run, and a re-run after
changing five files.  ``--before DIR`` runs another checkout's qualcode on the same corpus
and prints both side by side.

    .venv/bin/python bench/bench_yearly.py                  # 357 plans + 20 interviews
    .venv/bin/python bench/bench_yearly.py --quick          # 30 plans + 2 interviews
    .venv/bin/python bench/bench_yearly.py --quick --before /work/main
    .venv/bin/python bench/bench_yearly.py --curve 357,1000,3570   # memory at 357/1,000/3,570 plans
    .venv/bin/python bench/bench_yearly.py --quick --profile       # where the time goes now

Targets (issue 12, on a 2-core machine): 357 plans + 20 interviews < 120 s wall (goal 60 s),
peak memory of the process tree < 1 GB, unchanged re-run < 2 s, five changed files < 10 s,
memory flat in the number of plans.  Timings depend on the machine's load: the load
average before and after each run is printed with it.
"""
from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE = Path(__file__).resolve().parent / ".cache"
GENERATOR_VERSION = "1"  # bump when the generated corpus changes
PLAN_SOURCES = ["fjordvik-plan-2024", "nordheim-plan-2025", "solbakken-plan-2025", "storvang-plan-2024",
                "havoy-plan-2024"]  # 9 + 9 + 5 + 5 + 3 pages: one yearly plan is all five, renamed
INTERVIEW_SOURCES = ["fjordvik-intervju-2025", "havoy-intervju-2025", "nordheim-intervju-2025"]
DEMO_NAMES = ["Fjordvik", "Nordheim", "Solbakken", "Storvang", "Havøy", "Skjærvik"]
PREFIXES = ["Fjord", "Nord", "Sol", "Stor", "Hav", "Berg", "Li", "Dal", "Elve", "Strand", "Skog", "Lund", "Holm",
            "Sand", "Fjell", "Bjørk", "Rogn", "Furu", "Aust", "Vest", "Sør", "Ner", "Øver", "Kvit"]
SUFFIXES = ["vik", "heim", "bakken", "vang", "øy", "dal", "nes", "berg", "sund", "stad", "land", "mo", "fjord",
            "ås", "eid"]
BEFORE_ISSUE = {  # issue 12, 357 plans on a quiet machine, before this work
    "wall_s": 219, "cpu_s": 235, "main_cpu_s": 140, "pages_per_s": 49, "segments_per_s": 530,
    "main_rss_mb": 661, "unchanged_s": 5.0,
}
TARGETS = {"wall_s": "< 120 (goal 60)", "tree_rss_mb": "< 1024", "unchanged_s": "< 2", "changed5_s": "< 10"}


# -- the corpus ------------------------------------------------------------------------------

def _renderer():
    if "render_demo" not in sys.modules:
        spec = importlib.util.spec_from_file_location("render_demo", ROOT / "corpus" / "render_demo.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules["render_demo"] = module
        spec.loader.exec_module(module)
    return sys.modules["render_demo"]


def municipality_names(n: int) -> list[str]:
    names = [p + s for p in PREFIXES for s in SUFFIXES]
    random.Random(12).shuffle(names)
    while len(names) < n:
        names += [f"{side}-{name}" for side in ("Nord", "Sør", "Øvre", "Indre") for name in names[:n]]
    return names[:n]


def _rename(text: str, name: str) -> str:
    for old in DEMO_NAMES:
        text = re.sub(rf"\b{old}", name, text)
    return text


def _plan(args: tuple[int, str, Path, str]) -> tuple[str, int]:
    """Render plan ``i`` of municipality ``name`` (all five demo plans, rotated, renamed)."""
    i, name, out_dir, extra = args
    render = _renderer()
    parts = [render.read_source(ROOT / "corpus" / "demo-src" / f"{s}.md") for s in PLAN_SOURCES]
    k = i % len(parts)
    parts = parts[k:] + parts[:k]
    meta = dict(parts[0][0])
    body = "\n\n@pagebreak\n\n".join(_rename(b, name) for _, b in parts)
    if extra:
        body += f"\n\n## Endringer\n\n{extra}\n"
    for key in ("title", "author", "header", "footer_left", "municipality"):
        if key in meta:
            meta[key] = _rename(meta[key], name)
    meta["municipality"] = f"{name} kommune"
    file = f"{_slug(name)}-plan-{i:04d}.pdf"
    return file, render.render_pdf(meta, body, out_dir / file)


def _interview(args: tuple[int, str, Path]) -> tuple[str, int]:
    i, name, out_dir = args
    render = _renderer()
    source = INTERVIEW_SOURCES[i % len(INTERVIEW_SOURCES)]
    meta, body = render.read_source(ROOT / "corpus" / "demo-src" / f"{source}.md")
    meta = {k: _rename(v, name) for k, v in meta.items()}
    body = _rename(body, name)
    fmt = meta.get("format", "pdf")
    file = f"{_slug(name)}-intervju-{i:03d}.{fmt}"
    if fmt == "pdf":
        return file, render.render_pdf(meta, body, out_dir / file)
    if fmt == "docx":
        return file, render.render_docx(meta, body, out_dir / file)
    (out_dir / file).write_text(body.lstrip("\n"), encoding="utf-8")
    return file, 1


def _slug(name: str) -> str:
    return name.lower().translate(str.maketrans("æøå", "eoa")).replace(" ", "-")


def corpus(plans: int, interviews: int, workers: int) -> Path:
    """The cached corpus folder (rendered the first time, with a manifest.csv)."""
    folder = CACHE / f"yearly-v{GENERATOR_VERSION}-{plans}p-{interviews}i"
    if (folder / "manifest.csv").is_file():
        return folder
    tmp = folder.with_name(folder.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    names = municipality_names(plans)
    started = time.perf_counter()
    print(f"rendering {plans} plans and {interviews} interviews into {folder} (once; cached) …", flush=True)
    with ProcessPoolExecutor(workers) as pool:
        rendered = list(pool.map(_plan, [(i, n, tmp, "") for i, n in enumerate(names)], chunksize=4))
        talks = list(pool.map(_interview, [(i, names[i % len(names)], tmp) for i in range(interviews)]))
    with (tmp / "manifest.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file", "municipality", "year", "type", "informant_role", "size_class"])
        sizes = ["liten", "mellomstor", "stor"]
        for (file, _), name in zip(rendered, names):
            writer.writerow([file, f"{name} kommune", 2025, "plan", "", sizes[len(name) % 3]])
        for i, (file, _) in enumerate(talks):
            writer.writerow([file, f"{names[i % len(names)]} kommune", 2025, "intervju",
                             ["barnevernleder", "koordinator"][i % 2], sizes[i % 3]])
    tmp.rename(folder)
    pages = sum(p for _, p in rendered)
    print(f"rendered {pages} plan pages in {time.perf_counter() - started:.0f} s", flush=True)
    return folder


# -- measuring a run ---------------------------------------------------------------------------

def _children_of() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    ppid = int(handle.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            tree.setdefault(ppid, []).append(int(entry))
    return tree


def _tree(pid: int) -> list[int]:
    tree, out, todo = _children_of(), [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += tree.get(p, [])
    return out


def _memory(pid: int) -> tuple[int, int]:
    """(RSS, PSS) in bytes of one process."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as handle:
            values = dict(line.split(":", 1) for line in handle if ":" in line and not line.startswith("0"))
        return int(values["Rss"].split()[0]) * 1024, int(values["Pss"].split()[0]) * 1024
    except (OSError, KeyError, ValueError):
        return 0, 0


def _cpu(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


@dataclass
class Measured:
    wall_s: float
    cpu_s: float
    main_cpu_s: float
    tree_rss_mb: float
    tree_pss_mb: float
    main_rss_mb: float
    worker_rss_mb: float
    load_before: float
    load_after: float
    returncode: int
    output: str
    samples: list[tuple[float, int, float, float]] = field(default_factory=list)  # (t, files done, main, workers)


def measure(cmd: list[str], env: dict, cwd: Path, done_marker: Path | None = None, interval: float = 0.2) -> Measured:
    """Run ``cmd`` in ``cwd`` (outside any checkout, so `python -c` imports the checkout named by
    PYTHONPATH, not the one in the working folder); sample its process tree's memory."""
    load_before = os.getloadavg()[0]
    before = os.times()
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    peak = {"rss": 0, "pss": 0, "main": 0, "workers": 0}
    cpu = {}
    samples = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(interval):
            pids = _tree(proc.pid)
            mems = {p: _memory(p) for p in pids}
            rss = sum(m[0] for m in mems.values())
            pss = sum(m[1] for m in mems.values())
            main = mems.get(proc.pid, (0, 0))[0]
            workers = max([m[0] for p, m in mems.items() if p != proc.pid] or [0])
            peak["rss"], peak["pss"] = max(peak["rss"], rss), max(peak["pss"], pss)
            peak["main"], peak["workers"] = max(peak["main"], main), max(peak["workers"], workers)
            for p in pids:
                cpu[p] = _cpu(p)
            files = _count_lines(done_marker) if done_marker else 0
            samples.append((time.perf_counter() - started, files, main / 2**20, workers / 2**20))

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    output, _ = proc.communicate()
    wall = time.perf_counter() - started
    stop.set()
    thread.join()
    after = os.times()
    mb = 2**20
    return Measured(wall, (after.children_user - before.children_user) + (after.children_system - before.children_system),
                    cpu.get(proc.pid, 0.0), peak["rss"] / mb, peak["pss"] / mb, peak["main"] / mb,
                    peak["workers"] / mb, load_before, os.getloadavg()[0], proc.returncode, output, samples)


def _count_lines(path: Path) -> int:
    try:
        return path.read_text().count("\n")
    except OSError:
        return 0


def qualcode_cmd(checkout: Path) -> list[str]:
    python = checkout / ".venv" / "bin" / "python"
    python = python if python.exists() else Path(sys.executable)
    return [str(python), "-c", "import sys; from qualcode.cli import main; sys.argv[0] = 'qualcode'; main()"]


def _env(checkout: Path) -> dict:
    env = dict(os.environ, PYTHONPATH=str(checkout), COLUMNS="200", NO_COLOR="1")
    env.pop("QUALCODE_DB", None)
    return env


def _store_counts(db: Path) -> tuple[int, int, int, int]:
    import sqlite3

    with sqlite3.connect(db) as conn:
        return tuple(conn.execute(q).fetchone()[0] for q in (
            "select count(*) from documents", "select coalesce(sum(page_count), 0) from documents",
            "select count(*) from segments", "select count(*) from codings"))


def _change_five(work: Path, files: list[str]) -> None:
    """Re-render five plans with a new closing paragraph: five changed files, as a year's corrections."""
    names = municipality_names(len([f for f in files if "-plan-" in f]))
    changed = 0
    for file in files:
        match = re.search(r"-plan-(\d{4})\.pdf$", file)
        if match and changed < 5:
            i = int(match.group(1))
            extra = f"Planen ble revidert i desember: tiltakene for ungdom er styrket ({i})."
            _plan((i, names[i], work, extra))
            changed += 1


def bench(checkout: Path, folder: Path, workers: int, label: str) -> dict:
    work = Path(tempfile.mkdtemp(prefix="qualcode-yearly-"))
    try:
        shutil.copytree(folder, work / "corpus")
        db = work / "store.db"
        cmd = qualcode_cmd(checkout) + ["run", str(work / "corpus"), "--db", str(db), "--workers", str(workers)]
        env = _env(checkout)
        print(f"[{label}] first run …", flush=True)
        first = measure(cmd, env, work)
        if first.returncode != 0:
            print(first.output[-3000:])
            raise SystemExit(f"[{label}] qualcode run failed ({first.returncode})")
        docs, pages, segments, codings = _store_counts(db)
        print(f"[{label}] unchanged re-run …", flush=True)
        unchanged = measure(cmd, env, work)
        files = sorted(p.name for p in (work / "corpus").iterdir() if p.name != "manifest.csv")
        _change_five(work / "corpus", files)
        print(f"[{label}] re-run after changing 5 files …", flush=True)
        changed = measure(cmd, env, work)
        return {
            "label": label, "documents": docs, "pages": pages, "segments": segments, "codings": codings,
            "wall_s": first.wall_s, "cpu_s": first.cpu_s, "main_cpu_s": first.main_cpu_s,
            "worker_cpu_s": first.cpu_s - first.main_cpu_s,
            "pages_per_s": pages / first.wall_s, "segments_per_s": segments / first.wall_s,
            "tree_rss_mb": first.tree_rss_mb, "tree_pss_mb": first.tree_pss_mb,
            "main_rss_mb": first.main_rss_mb, "worker_rss_mb": first.worker_rss_mb,
            "unchanged_s": unchanged.wall_s, "unchanged_cpu_s": unchanged.cpu_s,
            "changed5_s": changed.wall_s, "changed5_cpu_s": changed.cpu_s,
            "load": f"{first.load_before:.1f}→{first.load_after:.1f}",
            "memory_over_time": _thin(first.samples),
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _thin(samples: list, n: int = 8) -> list:
    if len(samples) <= n:
        return [(round(t, 1), round(m), round(w)) for t, _, m, w in samples]
    step = (len(samples) - 1) / (n - 1)
    return [(round(samples[round(i * step)][0], 1), round(samples[round(i * step)][2]),
             round(samples[round(i * step)][3])) for i in range(n)]


ROWS = [
    ("documents", "documents", "{:.0f}"), ("pages", "pages", "{:.0f}"), ("segments", "segments", "{:.0f}"),
    ("codings", "codings", "{:.0f}"),
    ("wall_s", "wall, first run (s)", "{:.1f}"), ("cpu_s", "CPU, whole tree (s)", "{:.1f}"),
    ("main_cpu_s", "CPU, main process (s)", "{:.1f}"), ("worker_cpu_s", "CPU, workers (s)", "{:.1f}"),
    ("pages_per_s", "pages/s", "{:.0f}"), ("segments_per_s", "segments/s", "{:.0f}"),
    ("tree_rss_mb", "peak memory, tree RSS (MB)", "{:.0f}"), ("tree_pss_mb", "peak memory, tree PSS (MB)", "{:.0f}"),
    ("main_rss_mb", "peak memory, main process (MB)", "{:.0f}"),
    ("worker_rss_mb", "peak memory, one worker (MB)", "{:.0f}"),
    ("unchanged_s", "unchanged re-run (s)", "{:.2f}"), ("unchanged_cpu_s", "unchanged re-run CPU (s)", "{:.2f}"),
    ("changed5_s", "re-run, 5 files changed (s)", "{:.1f}"), ("changed5_cpu_s", "re-run, 5 changed CPU (s)", "{:.1f}"),
    ("load", "load average before→after", "{}"),
]


def print_table(results: list[dict], full: bool) -> None:
    columns = [r["label"] for r in results]
    if full:
        columns = ["issue 12 before"] + columns
    print()
    print(f"| metric | {' | '.join(columns)} | target |")
    print("|---|" + "---|" * (len(columns) + 1))
    for key, title, fmt in ROWS:
        cells = [fmt.format(BEFORE_ISSUE[key]) if key in BEFORE_ISSUE else "–"] if full else []
        cells += [fmt.format(r[key]) if key in r else "–" for r in results]
        print(f"| {title} | {' | '.join(cells)} | {TARGETS.get(key, '')} |")
    for r in results:
        print(f"\nmemory over the run [{r['label']}] (seconds, main MB, largest worker MB): {r['memory_over_time']}")


# -- the memory curve --------------------------------------------------------------------------

def curve(checkout: Path, base: Path, counts: list[int], workers: int) -> None:
    """Peak memory with N plans, made of salted copies of the cached corpus (same text, new
    content hashes: every copy is new to the store), so 3,570 plans need no new rendering."""
    plans = sorted(p for p in base.iterdir() if p.suffix == ".pdf" and "-plan-" in p.name)
    print("\n| plans | wall (s) | tree RSS peak (MB) | tree PSS peak (MB) | main RSS peak (MB) | worker RSS peak (MB) "
          "| main RSS at 25/50/75/100 % of the run (MB) | largest worker RSS at 25/50/75/100 % (MB) |")
    print("|---|---|---|---|---|---|---|---|")
    for n in counts:
        work = Path(tempfile.mkdtemp(prefix="qualcode-curve-"))
        try:
            folder = work / "corpus"
            folder.mkdir()
            for i in range(n):
                source = plans[i % len(plans)]
                data = source.read_bytes() + f"\n%copy {i}\n".encode()  # after %%EOF: same PDF, new hash
                (folder / f"{i:05d}-{source.name}").write_bytes(data)
            cmd = qualcode_cmd(checkout) + ["run", str(folder), "--db", str(work / "s.db"), "--workers", str(workers)]
            m = measure(cmd, _env(checkout), work, interval=0.5)
            at = [m.samples[min(len(m.samples) - 1, int(len(m.samples) * q))] for q in (0.25, 0.5, 0.75, 0.97)
                  ] if m.samples else []
            print(f"| {n} | {m.wall_s:.0f} | {m.tree_rss_mb:.0f} | {m.tree_pss_mb:.0f} | {m.main_rss_mb:.0f} | "
                  f"{m.worker_rss_mb:.0f} | {' / '.join(f'{s[2]:.0f}' for s in at)} | "
                  f"{' / '.join(f'{s[3]:.0f}' for s in at)} |", flush=True)
        finally:
            shutil.rmtree(work, ignore_errors=True)


# -- where the time goes -----------------------------------------------------------------------

def profile(checkout: Path, folder: Path, files: int = 6) -> None:
    """cProfile of a worker's job (read, segment, analyse, code) and of the main process's writes."""
    import cProfile
    import pstats

    sys.path.insert(0, str(checkout))
    from qualcode.pipeline import Coding, finish_run, start_run
    from qualcode.store import session_factory
    from qualcode.worker import CoderSpec, Job, process, setup

    pdfs = sorted(folder.glob("*-plan-*.pdf"))[:files]
    setup(CoderSpec())
    process(Job(pdfs[0]))  # warm: spaCy and the coder load once per worker, not per file
    prof = cProfile.Profile()
    prof.enable()
    for pdf in pdfs:
        process(Job(pdf))
    prof.disable()
    print(f"\nworker job, {len(pdfs)} plans (cProfile, by own time):")
    pstats.Stats(prof).sort_stats("tottime").print_stats(14)

    from qualcode.ingest import ingest

    work = Path(tempfile.mkdtemp(prefix="qualcode-profile-"))
    try:
        for pdf in pdfs:
            shutil.copy(pdf, work / pdf.name)
        factory = session_factory(str(work / "s.db"))
        run = start_run(factory, "bench")
        prof = cProfile.Profile()
        prof.enable()
        ingest(factory, [work], run, workers=1, coding=Coding())
        prof.disable()
        finish_run(factory, run, {})
        print("\nthe same plans through ingest in one process: where the main process's share goes "
              "(cumulative; `process` is what workers do):")
        pstats.Stats(prof).sort_stats("cumulative").print_stats(
            r"ingest\.py|worker\.py:\d+\(process\)|apply\.py|session\.py.*\(execute\)|base\.py.*\(commit\)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="30 plans and 2 interviews")
    parser.add_argument("--plans", type=int, default=None)
    parser.add_argument("--interviews", type=int, default=None)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--before", type=Path, default=None, help="another checkout to run first (e.g. main)")
    parser.add_argument("--curve", default=None, help="plan counts for the memory curve, e.g. 357,1000,3570")
    parser.add_argument("--profile", action="store_true", help="cProfile a worker's job and the main process")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures as JSON")
    args = parser.parse_args()
    plans = args.plans or (30 if args.quick else 357)
    interviews = args.interviews if args.interviews is not None else (2 if args.quick else 20)
    folder = corpus(plans, interviews, args.workers)
    print(f"corpus: {folder} ({plans} plans, {interviews} interviews); workers: {args.workers}; "
          f"cores: {os.cpu_count()}; load average now: {os.getloadavg()[0]:.1f}", flush=True)
    if args.profile:
        profile(ROOT, folder)
        return 0
    if args.curve:
        curve(ROOT, folder, [int(n) for n in args.curve.split(",")], args.workers)
        return 0
    results = []
    if args.before:
        results.append(bench(args.before, folder, args.workers, f"before ({args.before.name})"))
    results.append(bench(ROOT, folder, args.workers, "after"))
    print_table(results, full=plans == 357)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
