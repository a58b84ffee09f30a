"""`python -m bench --customers N [--lookups 1000] [--json]`

Runs, in one go on this machine: the seed, the ETL, the copy-only baseline on the same files,
random customer lookups through the same query functions the customer page calls (and on an
unclustered copy), Enter-to-name in headless Chromium, the value models, and the outreach page's
answer to random filter changes. Prints
a table of medians, p95s and peak memory (and JSON with --json); see docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

import psutil

from crm360 import cli, config

ROOT = Path(__file__).resolve().parent.parent


def _peak_rss(process: psutil.Process, stop: threading.Event, result: list[int]) -> None:
    peak = 0
    while not stop.is_set():
        try:
            total = process.memory_info().rss + sum(
                child.memory_info().rss for child in process.children(recursive=True))
            peak = max(peak, total)
        except psutil.Error:
            pass
        stop.wait(0.1)
    result.append(peak)


def run_measured(command: list[str], env: dict[str, str] | None = None) -> tuple[float, int, str]:
    """Run a command; returns (seconds, peak resident bytes of it and its children, stdout)."""
    started = time.perf_counter()
    child = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})
    stop, peak = threading.Event(), []
    watcher = threading.Thread(target=_peak_rss, args=(psutil.Process(child.pid), stop, peak))
    watcher.start()
    out, err = child.communicate()
    stop.set()
    watcher.join()
    if child.returncode != 0:  # the step's own one line (its last), with the command to run it again
        last = err.strip().splitlines()[-1] if err.strip() else f"exit {child.returncode}"
        raise SystemExit(f"bench: {' '.join(command[1:])} failed: {cli.one_line(last)}")
    return time.perf_counter() - started, peak[0], out


def main(argv: list[str] | None = None) -> int:
    parser = cli.Parser(prog="python -m bench", description=__doc__,
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=cli.whole_number(1), default=100_000)
    parser.add_argument("--lookups", type=cli.whole_number(1), default=1_000)
    parser.add_argument("--seed", type=cli.whole_number(0), default=7)
    parser.add_argument("--workdir", type=Path, default=ROOT / "data" / "bench")
    parser.add_argument("--reuse-raw", action="store_true", help="skip the seed if files exist")
    parser.add_argument("--browser-lookups", type=cli.whole_number(0), default=20,
                        help="searches timed in headless Chromium, Enter to name on screen (0: skip)")
    parser.add_argument("--no-unclustered-baseline", dest="unclustered_baseline", action="store_false",
                        help="skip the lookups on a copy with scattered fact tables")
    parser.add_argument("--outreach-filters", type=cli.whole_number(1), default=60,
                        help="random filter changes timed on the outreach page")
    parser.add_argument("--trend-views", type=cli.whole_number(1), default=30,
                        help="random one-year views of the trends page, every query timed")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    try:
        cli.folder(args.workdir, "--workdir")
    except cli.CommandError as error:
        return cli.fail("bench", error)
    raw = args.workdir / f"raw-{args.customers}"
    db = args.workdir / f"db-{args.customers}" / "crm.duckdb"
    results: dict = {
        "customers": args.customers,
        "machine": f"{platform.node()} {platform.machine()}, {os.cpu_count()} cores, "
                   f"{psutil.virtual_memory().total / 2**30:.0f} GiB, Python {platform.python_version()}",
        "when": datetime.now().isoformat(timespec="seconds"),
        "command": "python -m bench " + " ".join(argv if argv is not None else sys.argv[1:]),
    }
    py = sys.executable
    if not (args.reuse_raw and (raw / "manifest.json").exists()):
        seconds, peak, out = run_measured([py, "-m", "seed", "--customers", str(args.customers),
                                           "--seed", str(args.seed), "--out", str(raw)])
        results["seed"] = {"seconds": seconds, "peak_bytes": peak, "summary": out.strip()}
    seconds, peak, _ = run_measured([py, "-m", "etl", "--raw", str(raw), "--db", str(db)])
    results["etl"] = {"seconds": seconds, "peak_bytes": peak, **_stage_times(db)}
    seconds, peak, out = run_measured([py, "-c", (
        "import json, sys; from pathlib import Path; from bench.baseline import copy_only; "
        f"print(json.dumps(copy_only(Path({str(raw)!r}), Path({str(db.parent / 'baseline.duckdb')!r}))))")])
    results["baseline_copy"] = {"seconds": sum(json.loads(out).values()), "peak_bytes": peak,
                                "per_file": json.loads(out)}
    results["load_vs_copy"] = results["etl"]["load_seconds"] / results["baseline_copy"]["seconds"]
    seconds, peak, out = run_measured([py, "-m", "bench.lookups", str(db), str(args.lookups)],
                                     env=config.APP_ENVIRONMENT)
    results["lookups"] = {**json.loads(out), "peak_bytes": peak}
    if args.unclustered_baseline:
        scattered = db.parent.parent / f"unclustered-{args.customers}" / "crm.duckdb"
        seconds, _, _ = run_measured([py, "-m", "bench.unclustered", str(db), str(scattered)])
        _, _, out = run_measured([py, "-m", "bench.lookups", str(scattered), str(args.lookups)],
                                 env=config.APP_ENVIRONMENT)
        results["lookups_unclustered"] = {**json.loads(out), "copy_seconds": seconds}
    if args.browser_lookups:
        _, _, out = run_measured([py, "-m", "bench.browser", str(db), str(args.browser_lookups)])
        results["browser"] = json.loads(out)
    _, _, out = run_measured([py, "-m", "bench.desk", str(db.parent / "desk-bench"), "20", "50"])
    results["desk_saves"] = json.loads(out)
    _, peak, out = run_measured([py, "-m", "bench.models", str(db)])
    results["models"] = {**json.loads(out), "peak_bytes": peak}
    _, peak, out = run_measured([py, "-m", "bench.outreach", str(db), str(args.outreach_filters)])
    results["outreach"] = {**json.loads(out), "peak_bytes": peak}
    _, peak, out = run_measured([py, "-m", "bench.trends", str(db), str(args.trend_views)])
    results["trends"] = {**json.loads(out), "peak_bytes": peak}

    out_dir = ROOT / "bench" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"bench-{args.customers}.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2) if args.json else table(results))
    return 0


def _stage_times(db: Path) -> dict:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        run_id = con.execute("SELECT run_id FROM dataset_info").fetchone()[0]
        stages = dict(con.execute("SELECT stage, seconds FROM etl_run_stages WHERE run_id = ?", [run_id]).fetchall())
        rows = con.execute("SELECT sum(rows_read), sum(rows_loaded) FROM etl_runs WHERE run_id = ?",
                           [run_id]).fetchone()
    finally:
        con.close()
    return {"load_seconds": stages["load"], "marts_seconds": stages["marts"], "rows_read": rows[0],
            "rows_loaded": rows[1], "stages": stages}


def table(results: dict) -> str:
    gib = 2**30
    lines = [f"bench: {results['customers']:,} customers on {results['machine']}", ""]
    lines.append(f"{'stage':<34}{'seconds':>10}{'peak GiB':>10}")
    if "seed" in results:
        lines.append(f"{'seed (all raw files)':<34}{results['seed']['seconds']:>10.1f}"
                     f"{results['seed']['peak_bytes'] / gib:>10.2f}")
    etl = results["etl"]
    lines.append(f"{'etl total':<34}{etl['seconds']:>10.1f}{etl['peak_bytes'] / gib:>10.2f}")
    lines.append(f"{'  load (read, check, dedupe, cluster)':<34}{etl['load_seconds']:>10.1f}")
    lines.append(f"{'  marts':<34}{etl['marts_seconds']:>10.1f}")
    base = results["baseline_copy"]
    lines.append(f"{'baseline: copy files, no checks':<34}{base['seconds']:>10.1f}{base['peak_bytes'] / gib:>10.2f}")
    lines.append(f"load / copy ratio: {results['load_vs_copy']:.2f}x (target at most 2x)")
    lines.append(f"rows read {etl['rows_read']:,}, loaded {etl['rows_loaded']:,}")
    look = results["lookups"]
    lines.append("")
    lines.append(f"customer lookups ({look['count']:,} random customers, the customer page's queries):")
    lines.append(f"{'':<14}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}")
    for name, stats in look["queries"].items():
        lines.append(f"{name:<14}{stats['p50_ms']:>10.1f}{stats['p95_ms']:>10.1f}{stats['max_ms']:>10.1f}")
    lines.append(f"peak memory of the lookup process: {look['peak_bytes'] / gib:.2f} GiB")
    if "lookups_unclustered" in results:
        base = results["lookups_unclustered"]["queries"]
        lines.append("baseline: same lookups on a copy with scattered fact tables (same indexes):")
        for name, stats in base.items():
            lines.append(f"{name:<14}{stats['p50_ms']:>10.1f}{stats['p95_ms']:>10.1f}{stats['max_ms']:>10.1f}")
    browser = results.get("browser")
    if browser and "skipped" in browser:
        lines.append(f"browser lookups skipped: {browser['skipped']}")
    elif browser:
        lines.append(f"browser, Enter to name on screen ({browser['count']} searches): p50 {browser['p50_s']:.2f} s, "
                     f"p95 {browser['p95_s']:.2f} s, max {browser['max_s']:.2f} s")
    if "desk_saves" in results:
        saves = results["desk_saves"]
        lines += ["", f"wrap-up saves (a call with a follow-up; {saves['sessions']} agent sessions at once, "
                      f"{saves['saves']:,} saves): p50 {saves['p50_ms']:.1f} ms, p95 {saves['p95_ms']:.1f} ms "
                      f"(target at most 200), max {saves['max_ms']:.1f} ms; records lost: {saves['lost']}"]
    if "models" in results:
        lines += ["", *_models_table(results["models"])]
    if "outreach" in results:
        lines += ["", *_outreach_table(results["outreach"])]
    if "trends" in results:
        lines += ["", *_trends_table(results["trends"])]
    return "\n".join(lines)


def _trends_table(trend: dict) -> list[str]:
    lines = [f"trends page, {trend['views']} random views of {trend['range'][0]} to {trend['range'][1]} "
             f"(trend marts built in {trend['mart_seconds']:.1f} s):",
             f"{'  query (each at most 300 ms p95)':<40}{'p50 ms':>8}{'p95 ms':>9}{'max ms':>9}"]
    for name, stats in trend["queries"].items():
        label = f"  {name}" + (" (at most 1,500)" if name == "whole view" else "")
        lines.append(f"{label:<40}{stats['p50_ms']:>8.0f}{stats['p95_ms']:>9.0f}{stats['max_ms']:>9.0f}")
    return lines


def _outreach_table(outreach: dict) -> list[str]:
    queries, page = outreach["queries"], outreach["page"]
    return [f"outreach ({outreach['candidates']:,} candidates; {outreach['held_back']:,} held back by recent contact):",
            f"{'  outreach_candidates mart (at most 10 s)':<44}{outreach['mart_seconds']:>8.2f} s",
            f"  filter change, {outreach['filter_changes']} random: {'p50 ms':>8}{'p95 ms':>9}{'max ms':>9}",
            f"{'    the page queries':<28}{queries['p50_ms']:>8.0f}{queries['p95_ms']:>9.0f}{queries['max_ms']:>9.0f}",
            f"{'    whole page (at most 300)':<28}{page['p50_ms']:>8.0f}{page['p95_ms']:>9.0f}{page['max_ms']:>9.0f}",
            f"  full list of {outreach['export_rows']:,}: read {outreach['read_full_list_seconds']:.2f} s, CSV "
            f"{outreach['csv_seconds']:.2f} s, Excel {outreach['excel_seconds']:.2f} s"]


def _models_table(models: dict) -> list[str]:
    seconds = models["seconds"]
    lines = [f"value models ({models['customers_scored']:,} buyers, {models['distinct_histories']:,} distinct "
             "histories):",
             f"{'  purchase histories (SQL)':<34}{seconds['histories_sql']:>10.2f}",
             f"{'  fit BG/NBD + Gamma-Gamma':<34}{seconds['fit_both']:>10.2f}",
             f"{'  score every buyer':<34}{seconds['score']:>10.2f}",
             f"{'  fit + score (target at most 5 s)':<34}{seconds['fit_and_score']:>10.2f}",
             f"{'  RFM, tier, segment (at most 3 s)':<34}{seconds['rfm_tier_segment']:>10.2f}"]
    baseline = models["baseline"]
    if "skipped" in baseline:
        lines.append(f"baseline skipped: {baseline['skipped']}")
    else:
        lines.append(f"baseline: lifetimes fits the same models in {baseline['seconds']:.2f} s = "
                     f"{baseline['ratio_to_ours']:.1f}x our fit")
    return lines


if __name__ == "__main__":
    raise SystemExit(main())

