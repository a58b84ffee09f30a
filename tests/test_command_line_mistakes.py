"""Every mistake on a command line ends in one line on standard error and an exit code (2 for what
was typed, 1 for what the machine refused), never a traceback or a usage block; and nothing is
written where it should not be."""
from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import bench.__main__ as bench_main
import crm360.__main__ as crm360_main
import seed.__main__ as seed_main
from bench import mapping_load
from crm360.audit import AuditLog
from crm360.campaigns import CampaignStore

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def places(tmp_path) -> dict[str, str]:
    """{file}: an existing file; {under_file}: a path that would need a folder where that file is."""
    existing = tmp_path / "notes.txt"
    existing.write_text("not a database, not a folder\n")
    return {"file": str(existing), "under_file": str(existing / "sub" / "x.sqlite"), "tmp": str(tmp_path)}


def _run(main: Callable[[list[str]], int], argv: list[str], capsys) -> tuple[int, str]:
    try:
        code = main(argv)
    except SystemExit as stop:
        code = stop.code
    return code, capsys.readouterr().err


def _one_line(err: str, expected: str) -> None:
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    assert expected in err, err


@pytest.mark.parametrize(("argv", "code", "expected"), [
    (["--as-of", "2024-13-45"], 2, "--as-of: “2024-13-45” is not a date (YYYY-MM-DD or YYYY-MM-DDTHH:MM)"),
    (["--as-of", "2024-02-30"], 2, "is not a date"),
    (["--as-of", "yesterday"], 2, "is not a date"),
    (["--as-of", "2026-06-01T25:00"], 2, "is not a date"),
    (["--as-of", "2026-06-01T10:00+03:00"], 2, "without a time zone"),
    (["--as-of", "0001-01-01"], 2, "--as-of: “0001-01-01” is before 1900"),
    (["--seed", "-1"], 2, "--seed: must be at least 0, not -1"),
    (["--seed", "x"], 2, "--seed: “x” is not a whole number"),
    (["--customers", "1e3"], 2, "--customers: “1e3” is not a whole number"),
    (["--colour", "blue"], 2, "unrecognized arguments: --colour blue"),
    (["--out", "{file}"], 1, "seed: --out {file} is a file, not a folder"),
    (["--out", "{under_file}"], 1, "seed: --out {under_file} cannot be made: a part of"),
])
def test_seed_mistakes(capsys, places, argv, code, expected):
    argv = [a.format(**places) for a in argv]
    answer, err = _run(seed_main.main, ["--customers", "3", "--out", places["tmp"] + "/raw", *argv], capsys)
    assert answer == code
    _one_line(err, expected.format(**places))


def test_seed_writes_nothing_over_a_file_named_as_its_folder(capsys, places):
    code, _ = _run(seed_main.main, ["--customers", "3", "--out", places["file"]], capsys)
    assert code == 1 and Path(places["file"]).read_text() == "not a database, not a folder\n"


def test_seed_on_a_full_disk_says_so_in_one_line(capsys, places, monkeypatch):
    def full_disk(*_args, **_kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", places["tmp"] + "/raw/interactions.csv")

    monkeypatch.setattr(seed_main, "generate_raw_files", full_disk)
    answer, err = _run(seed_main.main, ["--customers", "3", "--out", places["tmp"] + "/raw"], capsys)
    assert answer == 1
    _one_line(err, "seed: cannot write to {tmp}/raw: No space left on device".format(**places))


@pytest.mark.parametrize(("argv", "code", "expected"), [
    (["--workdir", "{file}"], 1, "bench: --workdir {file} is a file, not a folder"),
    (["--workdir", "{under_file}"], 1, "bench: --workdir {under_file} cannot be made"),
    (["--customers", "0"], 2, "--customers: must be at least 1, not 0"),
    (["--lookups", "many"], 2, "--lookups: “many” is not a whole number"),
    (["--browser-lookups", "-2"], 2, "--browser-lookups: must be at least 0, not -2"),
])
def test_bench_mistakes(capsys, places, argv, code, expected):
    answer, err = _run(bench_main.main, [a.format(**places) for a in argv], capsys)
    assert answer == code
    _one_line(err, expected.format(**places))


@pytest.mark.parametrize(("raw", "work", "expected"), [
    ("{tmp}/missing", "{tmp}/work", "RAW_DIR {tmp}/missing does not exist; `python -m seed --out DIR` writes one"),
    ("{file}", "{tmp}/work", "RAW_DIR {file} is a file, not a folder"),
    ("{tmp}", "{file}", "WORK_DIR {file} is a file, not a folder"),
])
def test_mapping_load_mistakes(capsys, places, raw, work, expected):
    answer, err = _run(mapping_load.main, [raw.format(**places), work.format(**places)], capsys)
    assert answer == 1
    _one_line(err, "bench.mapping_load: " + expected.format(**places))


@pytest.mark.parametrize(("campaigns", "expected"), [
    ("{tmp}/none.sqlite", "outreach: --campaigns {tmp}/none.sqlite: no such file"),
    ("{file}", "outreach: campaign store {file} is not a SQLite file"),
    ("{tmp}", "outreach: --campaigns {tmp}: a folder, not a file"),
])
def test_outreach_refuses_a_campaign_store_it_cannot_use(capsys, places, small_db_path, campaigns, expected):
    out = Path(places["tmp"]) / "list.csv"
    answer, err = _run(crm360_main.main, ["outreach", "--db", str(small_db_path), "--campaigns",
                                          campaigns.format(**places), "--out", str(out)], capsys)
    assert answer == 1 and not out.exists()  # no list without its contact-pressure hold
    _one_line(err, expected.format(**places))


def test_outreach_writes_no_list_it_cannot_audit_and_names_a_folder_it_cannot_write(capsys, places, small_db_path,
                                                                                      monkeypatch):
    out = Path(places["tmp"]) / "list.csv"
    monkeypatch.setenv("CRM_AUDIT", places["file"])
    answer, err = _run(crm360_main.main, ["outreach", "--db", str(small_db_path), "--out", str(out)], capsys)
    assert answer == 1 and not out.exists()
    _one_line(err, "outreach: audit log {file} is not a SQLite file".format(**places))
    monkeypatch.setenv("CRM_AUDIT", places["tmp"] + "/audit.sqlite")
    missing = Path(places["tmp"]) / "no-such-folder" / "list.csv"
    (Path(places["tmp"]) / "a-folder.csv").mkdir()
    for out, expected in ((missing, f"outreach: --out {missing}: the folder {missing.parent} does not exist"),
                          (Path(places["under_file"]).with_suffix(".csv"),
                           "outreach: --out {under_file}: the folder {file}/sub does not exist"),
                          (Path(places["tmp"]) / "a-folder.csv", "outreach: --out {tmp}/a-folder.csv is a folder: "
                           "name the file to write")):
        answer, err = _run(crm360_main.main, ["outreach", "--db", str(small_db_path), "--out", str(out)], capsys)
        assert answer == 1
        _one_line(err, expected.format(**places).replace("x.sqlite", "x.csv"))
    # Nothing was written, so nothing was recorded as exported.
    audit_log = Path(places["tmp"]) / "audit.sqlite"
    assert not audit_log.exists() or AuditLog(audit_log).search(action="export") == []


def test_outreach_takes_several_reasons_after_one_flag_and_the_flag_repeated(capsys, small_db, small_db_path,
                                                                           tmp_path):
    CampaignStore(tmp_path / "campaigns.sqlite")
    expected = small_db.row("SELECT count(*) FROM outreach_candidates "
                            "WHERE list_has_any(rules, ['birthday', 'anniversary'])")[0]
    assert expected > 0
    common = ["outreach", "--db", str(small_db_path), "--campaigns", str(tmp_path / "campaigns.sqlite")]
    for reasons in (["--reason", "birthday", "anniversary"], ["--reason", "birthday", "--reason", "anniversary"]):
        answer, err = _run(crm360_main.main, [*common, *reasons, "--out", str(tmp_path / "list.csv")], capsys)
        assert answer == 0, err
        rows = (tmp_path / "list.csv").read_text(encoding="utf-8-sig").splitlines()
        assert len(rows) - 1 == expected
    answer, err = _run(crm360_main.main, [*common, "--reason", "birthdays", "--out", str(tmp_path / "x.csv")], capsys)
    assert answer == 2
    _one_line(err, "--reason: invalid choice: 'birthdays'")


@pytest.mark.parametrize(("store", "expected"), [
    ("{file}", "users: user store {file} is not a SQLite file (file is not a database)"),
    ("{under_file}", "users: user store {under_file} cannot be made: a part of"),
    ("{tmp}", "users: user store {tmp} is a folder: name the file"),
])
def test_users_refuses_a_store_it_cannot_use(capsys, places, store, expected):
    answer, err = _run(crm360_main.main, ["users", "--store", store.format(**places), "list"], capsys)
    assert answer == 1
    _one_line(err, expected.format(**places))


@pytest.mark.parametrize(("argv", "expected"), [
    (["users", "role", "elif"], "users role: the following arguments are required: role"),
    (["users", "add", "elif", "--role", "boss"], "--role: invalid choice: 'boss'"),
    (["backtest", "--db", "x.duckdb", "--calibration-end", "1 June"], "--calibration-end: “1 June” is not a date"),
    (["outreach"], "the following arguments are required: --out"),
    (["report"], "invalid choice: 'report'"),
])
def test_crm360_typing_mistakes(capsys, argv, expected):
    answer, err = _run(crm360_main.main, argv, capsys)
    assert answer == 2
    _one_line(err, expected)


@pytest.mark.parametrize("command", [
    ["-m", "seed", "--as-of", "2024-13-45"],
    ["-m", "crm360", "users", "--store", "{file}", "list"],
])
def test_a_mistake_in_a_real_shell_is_one_line(places, command):
    done = subprocess.run([sys.executable, *[c.format(**places) for c in command]], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode in (1, 2) and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "Traceback" not in done.stderr


def test_make_lint_runs_the_linter_and_fails_on_a_finding(tmp_path):
    for name in ("Makefile", "pyproject.toml", "requirements.txt"):
        shutil.copy(ROOT / name, tmp_path / name)
    os.utime(tmp_path / "requirements.txt", (0, 0))
    venv = tmp_path / ".venv"
    venv.mkdir()
    (venv / ".installed").touch()  # newer than requirements.txt: make installs nothing

    def lint() -> subprocess.CompletedProcess:
        return subprocess.run(["make", "-s", "lint", f"PY={sys.executable}", f"VENV={venv}"], cwd=tmp_path,
                              capture_output=True, text=True, timeout=120)

    (tmp_path / "clean.py").write_text('"""Nothing to find."""\n')
    assert lint().returncode == 0
    (tmp_path / "untidy.py").write_text("import os\n")
    found = lint()
    assert found.returncode != 0 and "F401" in found.stdout and "untidy.py" in found.stdout
