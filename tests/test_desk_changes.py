"""`python -m crm360 changes`: the desk's changes since a cursor, for the systems of record."""
import json
from datetime import datetime

from crm360.__main__ import main
from crm360.desk import DeskStore

NOW = datetime(2026, 6, 30, 12, 0)


def _store(tmp_path) -> DeskStore:
    store = DeskStore(tmp_path / "desk.sqlite")
    store.log_call(1_000_001, "deniz", "billing", "escalated", "not 'quoted'; <b>x</b>", now=NOW)
    store.record_consent(1_000_001, "deniz", "sms", False, now=NOW)
    return store


def test_changes_since_a_cursor_are_written_with_the_next_cursor_and_again_the_same(tmp_path, capsys):
    store = _store(tmp_path)
    out = tmp_path / "changes.jsonl"
    assert main(["changes", "--since", "0", "--out", str(out), "--store", str(store.path)]) == 0
    header, *rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert header == {"since": 0, "next_cursor": store.last_cursor(), "changes": 2}
    assert [r["kind"] for r in rows] == ["call_logged", "consent_recorded"]
    assert rows[0]["data"]["note"] == "not 'quoted'; <b>x</b>"
    first = out.read_bytes()
    assert main(["changes", "--since", "0", "--out", str(out), "--store", str(store.path)]) == 0
    assert out.read_bytes() == first  # idempotent
    assert main(["changes", "--since", str(header["next_cursor"]), "--out", str(out), "--store",
                 str(store.path)]) == 0
    assert out.read_text(encoding="utf-8").splitlines() == [json.dumps(
        {"since": header["next_cursor"], "next_cursor": header["next_cursor"], "changes": 0})]
    store.record_consent(1_000_001, "deniz", "email", True, now=NOW)
    assert main(["changes", "--since", str(header["next_cursor"]), "--out", str(out), "--store",
                 str(store.path)]) == 0
    assert [json.loads(line)["kind"] for line in out.read_text().splitlines()[1:]] == ["consent_recorded"]
    assert "next cursor: " in capsys.readouterr().out


def test_a_bad_cursor_or_path_is_one_line(tmp_path, capsys):
    store = _store(tmp_path)
    out = tmp_path / "changes.jsonl"
    assert main(["changes", "--since", "99", "--out", str(out), "--store", str(store.path)]) == 1
    assert "ends at 2" in capsys.readouterr().err
    for since in ("-1", "abc"):
        try:
            code = main(["changes", "--since", since, "--out", str(out), "--store", str(store.path)])
        except SystemExit as stop:
            code = stop.code
        assert code == 2
        assert len(capsys.readouterr().err.strip().splitlines()) == 1
    assert main(["changes", "--since", "0", "--out", str(tmp_path / "no" / "x.jsonl"), "--store",
                 str(store.path)]) == 1
    assert "does not exist" in capsys.readouterr().err
    assert main(["changes", "--since", "0", "--out", str(out), "--store", str(tmp_path / "missing.sqlite")]) == 1
    assert "no such file" in capsys.readouterr().err
    assert not out.exists() and not (tmp_path / "missing.sqlite").exists()


def test_a_link_a_device_or_a_store_is_never_replaced(tmp_path, capsys):
    """`--out /dev/stdout` (a link to a device) or a typo naming a store must not be replaced by the
    hand-off: only a plain .jsonl file is written."""
    store = _store(tmp_path)
    kept = tmp_path / "target.jsonl"
    kept.write_text("kept\n")
    link = tmp_path / "link.jsonl"
    link.symlink_to(kept)
    users = tmp_path / "users.sqlite"
    users.write_bytes(b"SQLite format 3\x00")
    for out, said in ((link, "a link or a device"), (users, "must end in .jsonl"), ("/dev/null", ".jsonl")):
        assert main(["changes", "--since", "0", "--out", str(out), "--store", str(store.path)]) == 1
        assert said in capsys.readouterr().err
    assert link.is_symlink() and kept.read_text() == "kept\n" and users.read_bytes() == b"SQLite format 3\x00"


def test_the_hand_off_is_recorded_in_the_audit_log_before_it_is_written(tmp_path, monkeypatch):
    from crm360.audit import AuditLog

    monkeypatch.setenv("CRM_AUDIT", str(tmp_path / "audit.sqlite"))
    store = _store(tmp_path)
    out = tmp_path / "changes.jsonl"
    assert main(["changes", "--since", "0", "--out", str(out), "--store", str(store.path)]) == 0
    [entry] = AuditLog(tmp_path / "audit.sqlite").search(action="export")
    assert entry.page == "changes command" and entry.customers == 1
    assert entry.detail["rows"] == 2 and entry.detail["file"] == str(out)


def test_a_copy_of_the_store_named_as_the_output_is_refused_and_the_record_stays_home(tmp_path, monkeypatch):
    """--store at a copy named like a hand-off file: the copy is not overwritten, and the audit entry
    of a hand-off goes to the installation's own log, never to one made beside the copy."""
    import shutil

    from crm360.audit import AuditLog

    monkeypatch.setenv("CRM_AUDIT", str(tmp_path / "home" / "audit.sqlite"))
    (tmp_path / "home").mkdir()
    store = _store(tmp_path)
    (tmp_path / "elsewhere").mkdir()
    copy = tmp_path / "elsewhere" / "store.jsonl"
    shutil.copy(store.path, copy)
    assert main(["changes", "--since", "0", "--out", str(copy), "--store", str(copy)]) == 1
    assert copy.read_bytes()[:15] == b"SQLite format 3"
    out = tmp_path / "elsewhere" / "handoff.jsonl"
    assert main(["changes", "--since", "0", "--out", str(out), "--store", str(copy)]) == 0
    assert not (tmp_path / "elsewhere" / "audit.sqlite").exists()
    assert len(AuditLog(tmp_path / "home" / "audit.sqlite").search(action="export")) == 1
