"""The audit log that cannot be silenced: who did it on every downloaded file, no password in an
entry, a hash chain that shows tampering, and pages that close instead of serving unaudited views."""
from __future__ import annotations

import io
import os
import re
import sqlite3
import stat
import subprocess
import sys
import threading
import zipfile
from contextlib import closing
from pathlib import Path
from typing import ClassVar

import pytest
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1 import app_test as app_test_module

from crm360 import audit, session
from crm360.access import User, UserStore
from crm360.audit import AuditLog, AuditUnavailable
from tests.conftest import sign_in_session

ROOT = Path(__file__).resolve().parent.parent
APP = "../dashboard.py"
AUDITED_PAGES = {"customer": "pages/customer.py", "segments": "pages/segments.py", "outreach": "pages/outreach.py",
                 "campaigns": "pages/campaigns.py", "data-health": "pages/data-health.py", "audit": "pages/audit.py",
                 "users": "pages/users.py"}
ROLE_OF = {"customer": "agent", "segments": "marketing", "outreach": "marketing", "campaigns": "marketing",
           "data-health": "admin", "audit": "admin", "users": "admin"}


class _RecordingMediaFiles(MediaFileManager):
    """The app test's media file manager, kept so a test can click a download as the server does:
    the file's callable runs outside the session's script (no session state there)."""
    made: ClassVar[list[MediaFileManager]] = []

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        _RecordingMediaFiles.made.append(self)


@pytest.fixture
def signed_in(small_db_path, monkeypatch, tmp_path):
    monkeypatch.delenv("CRM_AUTH", raising=False)
    monkeypatch.setenv("CRM_DB", str(small_db_path))
    monkeypatch.setenv("CRM_CAMPAIGNS", str(tmp_path / "campaigns.sqlite"))
    monkeypatch.setenv("CRM_IDENTITY_DECISIONS", str(tmp_path / "decisions.sqlite"))
    monkeypatch.setattr(app_test_module, "MediaFileManager", _RecordingMediaFiles)

    def make(role: str, page: str | None = None, **state: object) -> AppTest:
        app = AppTest.from_file(APP, default_timeout=60)
        sign_in_session(app, User(f"test-{role}", role))
        for key, value in state.items():
            app.session_state[key] = value
        app.run()
        if page:
            app.switch_page(page).run()
        assert not app.exception, app.exception
        return app
    return make


def _click_download(button) -> bytes:
    """What the server does when the button is clicked: run the file's callable on another thread,
    without the session's context."""
    made = [m for m in _RecordingMediaFiles.made if button.proto.deferred_file_id in m._deferred_callables]
    result: list[bytes] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            result.append(made[-1]._deferred_callables[button.proto.deferred_file_id]["callable"]())
        except BaseException as error:  # handed to the test thread
            failure.append(error)
    worker = threading.Thread(target=run)
    worker.start()
    worker.join()
    if failure:
        raise failure[0]
    return result[0]


def _entries(**filters) -> list[audit.Entry]:
    session.flush_audit()
    return AuditLog().search(**filters)


def _as_read(markdown: str) -> str:
    """Text as a person reads it: without the escapes and word joiners `ui.plain` adds."""
    return markdown.replace("\\", "").replace("\u2060", "")


def _downloads(app: AppTest) -> dict[str, object]:
    return {b.proto.label: b for b in app.get("download_button")}


# --- who did it, on every file and every entry --------------------------------------------------

def test_outreach_files_downloaded_in_the_browser_name_the_signed_in_user(signed_in, small_db):
    app = signed_in("marketing", "pages/outreach.py")
    buttons = _downloads(app)
    text = _click_download(buttons["Download the list (CSV)"]).decode("utf-8-sig")
    header, first = text.splitlines()[:2]
    assert header.endswith("exported_by,exported_at") and "test-marketing (Marketing)" in first
    assert "local (all)" not in text
    with zipfile.ZipFile(io.BytesIO(_click_download(buttons["Download the list (Excel)"]))) as workbook:
        assert "test-marketing (Marketing)" in workbook.read("docProps/core.xml").decode()
        assert "test-marketing (Marketing)" in workbook.read("xl/worksheets/sheet1.xml").decode()
    exports = _entries(action="export")
    assert [(e.user_name, e.role, e.detail["format"]) for e in exports] == [
        ("test-marketing", "marketing", "xlsx"), ("test-marketing", "marketing", "csv")]
    assert exports[0].customers == small_db.row("SELECT count(*) FROM outreach_candidates")[0]


def test_the_quarantine_file_names_the_admin_who_downloaded_it(signed_in):
    app = signed_in("admin", "pages/data-health.py")
    [button] = [b for label, b in _downloads(app).items() if label.startswith("Download the quarantine")]
    assert "test-admin (Admin)" in _click_download(button).decode("utf-8-sig").splitlines()[1]
    [entry] = _entries(action="export")
    assert (entry.user_name, entry.page, entry.detail["what"]) == ("test-admin", "data-health", "quarantine")


@pytest.mark.parametrize("section, label", [("Revenue", "Download revenue and orders (CSV)"),
                                            ("Team", "Download the data (CSV)")])
def test_chart_data_and_the_team_table_name_the_executive_who_downloaded_them(signed_in, section, label):
    app = signed_in("executive", "pages/trends.py", **{"trend-section": section})
    text = _click_download(_downloads(app)[label]).decode("utf-8-sig")
    assert text.splitlines()[0].endswith("exported_by,exported_at") and "test-executive (Executive)" in text
    [entry] = _entries(action="export")
    assert (entry.user_name, entry.role, entry.page) == ("test-executive", "executive", "trends")


def test_the_printable_summary_names_the_executive_who_downloaded_it(signed_in):
    app = signed_in("executive", "pages/trends.py")
    html = _click_download(_downloads(app)["Printable summary (HTML)"]).decode("utf-8")
    assert "test-executive (Executive)" in html and "local (all)" not in html
    [entry] = _entries(action="export")
    assert (entry.user_name, entry.detail["format"]) == ("test-executive", "html")


def test_no_download_leaves_while_the_audit_log_cannot_record_it(signed_in):
    app = signed_in("marketing", "pages/outreach.py")
    button = _downloads(app)["Download the list (CSV)"]
    session.flush_audit()
    audit.store_path().unlink()
    with pytest.raises(AuditUnavailable, match="missing"):
        _click_download(button)
    assert not audit.store_path().exists()


@pytest.mark.parametrize("change", ["removed", "demoted"])
def test_a_download_drawn_before_an_admin_removed_or_demoted_the_user_makes_no_file(signed_in, change):
    """The click builds the file: a button left on screen must not outlive the right to press it."""
    from crm360 import access

    app = signed_in("marketing", "pages/outreach.py")
    button = _downloads(app)["Download the list (CSV)"]
    users = access.UserStore(access.store_path())
    users.add("boss", "admin", "a long enough password 1")
    users.remove("test-marketing") if change == "removed" else users.set_role("test-marketing", "agent")
    with pytest.raises(access.AccessError, match="no file is made"):
        _click_download(button)
    assert not _entries(action="export")


def test_tables_offer_no_download_of_their_own():
    """st.dataframe's toolbar would download any table unstamped and unaudited: it is switched
    off for the whole app (the browser test checks the outreach table has no such button)."""
    import tomllib

    settings = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert settings["client"]["disableDataExport"] is True


def test_a_sign_in_with_an_unknown_name_keeps_a_fingerprint_not_the_text(signed_in):
    UserStore().add("elif", "agent", "correct horse battery staple")
    app = AppTest.from_file(APP, default_timeout=60)
    app.run()
    for typed in ("correct horse battery staple", "correct horse battery staple", "another-secret-text", "elif"):
        app.text_input[0].input(typed)
        app.text_input[1].input("wrong password here")
        app.button[0].click().run()
    failed = _entries(action="sign_in_failed")
    with sqlite3.connect(audit.store_path()) as con:
        stored = " ".join(str(v) for row in con.execute("SELECT * FROM audit_log") for v in row)
    assert "correct horse" not in stored and "another-secret" not in stored
    assert [e.user_name for e in failed] == ["elif", "(unknown name)", "(unknown name)", "(unknown name)"]
    first, second, third = (e.detail["typed_fingerprint"] for e in reversed(failed[1:]))
    assert first == second != third and len(first) == 16
    key = audit.key_path(audit.store_path())
    assert stat.S_IMODE(key.stat().st_mode) == 0o600 and len(key.read_bytes()) == 32


# --- the hash chain -----------------------------------------------------------------------------

def _log_with_entries(path: Path) -> AuditLog:
    log = AuditLog(path)
    log.record("elif", "agent", "profile_view", page="customer", customer_ids=[1000042])
    log.record("deniz", "marketing", "export", page="outreach", customer_ids=[1000042, 1000043], rows=2)
    log.record("can", "agent", "search", page="customer", customer_ids=[1000044], query="yılmaz")
    return log


def _tamper(path: Path, *statements: str) -> None:
    """What someone with the file and sqlite3 can do: drop the guards and change what they like."""
    with closing(sqlite3.connect(path, isolation_level=None)) as con:
        for table in ("audit_log", "audit_customers"):
            for verb in ("update", "delete"):
                con.execute(f"DROP TRIGGER IF EXISTS {table}_append_only_{verb}")
        for statement in statements:
            con.execute(statement)


def _verify(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "crm360", "audit", "verify", "--store", str(path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)


def test_an_intact_chain_verifies(tmp_path):
    log = _log_with_entries(tmp_path / "a.sqlite")
    chain = log.verify()
    assert chain.intact and chain.entries == 3 and chain.last_id == 3
    done = _verify(tmp_path / "a.sqlite")
    assert done.returncode == 0 and "chain intact, 3 entries" in done.stdout, done.stderr


@pytest.mark.parametrize("statements, where, what", [
    (["UPDATE audit_log SET user_name = 'someone' WHERE entry_id = 2"], "entry 2", "contents do not match"),
    (["UPDATE audit_log SET detail = '{}' WHERE entry_id = 3"], "entry 3", "contents do not match"),
    (["DELETE FROM audit_customers WHERE customer_id = 1000043"], "entry 2", "contents do not match"),
    (["INSERT INTO audit_customers VALUES (1, 1000099)"], "entry 1", "contents do not match"),
    (["DELETE FROM audit_customers WHERE entry_id = 2", "DELETE FROM audit_log WHERE entry_id = 2"], "entry 3",
     "does not match entry 1"),
    (["DELETE FROM audit_customers WHERE entry_id = 1", "DELETE FROM audit_log WHERE entry_id = 1"], "entry 2",
     "does not start the chain"),
    (["INSERT INTO audit_log (entry_id, at, user_name, role, action) VALUES (9, '2026-01-01', 'x', 'y', 'search')"],
     "entry 9", "no chain hash"),
    (["INSERT INTO audit_customers VALUES (7, 1000042)"], "entry 7", "not in the log"),
])
def test_tampering_is_found_and_named(tmp_path, statements, where, what):
    path = tmp_path / "a.sqlite"
    _log_with_entries(path)
    _tamper(path, *statements)
    chain = AuditLog(path).verify()
    assert not chain.intact and chain.problem.startswith(f"{where}:") and what in chain.problem, chain.problem
    done = _verify(path)
    assert done.returncode == 1 and f"breaks at {where}:" in done.stderr and "Traceback" not in done.stderr


def test_verify_of_a_missing_or_foreign_store_says_so_in_one_line(tmp_path):
    missing = _verify(tmp_path / "nothing.sqlite")
    assert missing.returncode == 1 and "no audit log at" in missing.stderr
    (tmp_path / "foreign.sqlite").write_text("not a database")
    foreign = _verify(tmp_path / "foreign.sqlite")
    assert foreign.returncode == 1 and len(foreign.stderr.strip().splitlines()) == 1 and "Traceback" not in (
        foreign.stderr)


OLD_SCHEMA = """
CREATE TABLE audit_log (entry_id INTEGER PRIMARY KEY, at TEXT NOT NULL, user_name TEXT NOT NULL, role TEXT NOT NULL,
    action TEXT NOT NULL, page TEXT NOT NULL DEFAULT '', customers INTEGER NOT NULL DEFAULT 0,
    detail TEXT NOT NULL DEFAULT '{}');
CREATE TABLE audit_customers (entry_id INTEGER NOT NULL REFERENCES audit_log, customer_id INTEGER NOT NULL);
CREATE TRIGGER audit_log_append_only_update BEFORE UPDATE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
INSERT INTO audit_log VALUES (1, '2026-11-01T10:00:00', 'elif', 'agent', 'profile_view', 'customer', 1, '{}');
INSERT INTO audit_customers VALUES (1, 1000042);
INSERT INTO audit_log VALUES (2, '2026-11-01T10:05:00', 'can', 'agent', 'search', 'customer', 0, '{"query": "x"}');
"""


def test_a_store_from_before_the_chain_is_chained_once_and_says_so(tmp_path):
    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as con:
        con.executescript(OLD_SCHEMA)
    log = AuditLog(path)
    log.record("deniz", "marketing", "list_view", customer_ids=[5])
    assert log.verify().intact and log.verify().entries == 3
    assert [e.user_name for e in log.search()] == ["deniz", "can", "elif"]
    chained, bound = log.notes()
    assert "2 entries written before the hash chain existed" in chained
    assert "made before stores were bound to their installation" in bound
    with sqlite3.connect(path) as con, pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con.execute("UPDATE audit_log SET user_name = 'x'")
    done = _verify(path)
    assert done.returncode == 0 and "2 entries written before the hash chain" in done.stdout


def test_two_writers_at_once_never_fork_the_chain(tmp_path):
    """The app's writer thread and a command-line export write to the same file at the same
    time; each link is read inside the write transaction."""
    path = tmp_path / "a.sqlite"
    AuditLog(path)
    script = ("import sys; from crm360.audit import AuditLog; log = AuditLog(sys.argv[1])\n"
              "for n in range(150): log.record('cli', 'command line', 'export', customer_ids=[n, n + 1])")
    writers = [subprocess.Popen([sys.executable, "-c", script, str(path)], cwd=ROOT) for _ in range(3)]
    for writer in writers:
        assert writer.wait(timeout=120) == 0
    chain = AuditLog(path).verify()
    assert chain.intact and chain.entries == 450, chain.problem


# --- failing closed -----------------------------------------------------------------------------

@pytest.mark.parametrize("page", list(AUDITED_PAGES))
def test_a_store_deleted_while_the_app_runs_closes_every_audited_page(signed_in, page):
    role = ROLE_OF[page]
    signed_in(role, AUDITED_PAGES[page])  # the log exists and the page opens
    session.flush_audit()
    store = audit.store_path()
    store.unlink()
    app = signed_in(role, AUDITED_PAGES[page])
    assert [w.value for w in app.warning] == [session.AUDIT_CLOSED]
    assert not app.dataframe and not app.metric and not app.get("download_button")
    assert [b.label for b in app.button] == ["Sign out"] and not app.get("form")
    alerts = [e.value for e in app.error if e.value.startswith("Audit log alert")]
    assert (role == "admin") == bool(alerts) and all("missing" in a for a in alerts)
    session.flush_audit()
    assert not store.exists()  # not made again behind the admins' back
    with pytest.raises(AuditUnavailable, match="missing"):
        AuditLog(store)


def test_admins_are_alerted_on_every_page_and_other_pages_stay_open(signed_in):
    signed_in("admin")
    session.flush_audit()
    audit.store_path().unlink()
    overview = signed_in("admin")
    assert any(e.value.startswith("Audit log alert") for e in overview.error) and overview.metric
    trends = signed_in("executive", "pages/trends.py")
    assert not trends.error and trends.metric


def test_every_page_that_records_an_audit_entry_is_closed_while_the_log_cannot_take_it():
    """A page that changes something (users, campaigns, identity decisions) or lists customers
    writes an entry: it must be in the set of pages that close."""
    recording = set()
    for page in (ROOT / "pages").glob("*.py"):
        text = page.read_text(encoding="utf-8")
        if any(call in text for call in ("session.record(", "session.record_when_changed(")):
            [name] = re.findall(r'session\.require\("([^"]*)"\)', text)
            recording.add(name)
    assert {"users", "campaigns", "data-health", "outreach"} <= recording
    assert recording <= session.AUDITED_PAGES, recording - session.AUDITED_PAGES


def test_an_admin_can_sign_in_while_the_log_is_missing_and_sees_the_alert(signed_in, caplog):
    UserStore().add("ayse", "admin", "a long enough password 1")
    signed_in("admin")
    session.flush_audit()
    audit.store_path().unlink()
    app = AppTest.from_file(APP, default_timeout=60)
    app.run()
    app.text_input[0].input("ayse")
    app.text_input[1].input("a long enough password 1")
    app.button[0].click().run()
    assert not app.exception and not app.text_input  # signed in: the overview, not the form
    assert any(e.value.startswith("Audit log alert") and "missing" in e.value for e in app.error)
    assert any("sign_in by ayse" in r.getMessage() for r in caplog.records)  # in the server log instead


def test_a_broken_chain_closes_the_pages_and_the_audit_page_says_where(signed_in, small_db):
    signed_in("marketing", "pages/outreach.py")
    session.flush_audit()
    _tamper(audit.store_path(), "UPDATE audit_log SET user_name = 'nobody' WHERE entry_id = 1")
    session.audit_log().check_chain()  # as the periodic walk does
    outreach = signed_in("marketing", "pages/outreach.py")
    assert [w.value for w in outreach.warning] == [session.AUDIT_CLOSED] and not outreach.dataframe
    admin = signed_in("admin", "pages/audit.py")
    [alert] = [_as_read(e.value) for e in admin.error if e.value.startswith("Audit log alert")]
    assert "entry 1: its contents do not match its hash" in alert and not admin.dataframe


def test_the_app_walks_the_chain_when_it_opens_the_log_and_again_from_time_to_time(tmp_path, monkeypatch):
    path = tmp_path / "a.sqlite"
    _log_with_entries(path)
    _tamper(path, "UPDATE audit_log SET action = 'search' WHERE entry_id = 2")
    opened = AuditLog(path, watch=True)  # an app started over a log changed while it was down
    audit.flush(include_walks=True)
    assert "tampered with" in opened.health() and "entry 2" in opened.health()

    fresh = tmp_path / "b.sqlite"
    _log_with_entries(fresh)
    watched = AuditLog(fresh, watch=True)
    audit.flush(include_walks=True)
    assert watched.health() is None and watched.chain.entries == 3
    _tamper(fresh, "UPDATE audit_log SET at = '2020-01-01T00:00:00' WHERE entry_id = 1")
    monkeypatch.setattr(audit, "FULL_CHECK_SECONDS", 0)
    monkeypatch.setattr(audit, "FULL_CHECK_SHARE", 1e12)  # the next walk is due at once
    assert watched.health() is None  # asks for the next walk
    audit.flush(include_walks=True)
    assert "entry 1: its contents do not match" in watched.health()


def test_a_store_replaced_while_the_app_runs_is_walked_again(signed_in):
    signed_in("marketing", "pages/outreach.py")
    session.flush_audit()
    store = audit.store_path()
    copy = store.with_name("copy.sqlite")
    with closing(sqlite3.connect(store)) as source, closing(sqlite3.connect(copy)) as target:
        source.backup(target)
    _tamper(copy, "UPDATE audit_log SET role = 'admin' WHERE entry_id = 1")
    os.replace(copy, store)
    app = signed_in("marketing", "pages/outreach.py")
    assert [w.value for w in app.warning] == [session.AUDIT_CLOSED]


def _fresh_store_in_place_of(store: Path, *, with_key_of: Path | None = None) -> None:
    """What the tester did: an empty store made elsewhere (with its own key, or its tag remade with
    this installation's key by someone who has it) moved over the app's store while it runs."""
    elsewhere = store.parent / "elsewhere"
    elsewhere.mkdir()
    fresh = AuditLog(elsewhere / store.name)
    if with_key_of is not None:
        key = with_key_of.read_bytes()
        with closing(sqlite3.connect(fresh.path, isolation_level=None)) as con:
            [(store_id,)] = con.execute("SELECT store_id FROM audit_installation").fetchall()
            con.execute("DROP TRIGGER audit_installation_append_only_update")
            con.execute("UPDATE audit_installation SET tag = ?", (audit._tag(key, store_id),))
    os.replace(fresh.path, store)


def _closed_with_alert(signed_in, *expected: str) -> None:
    outreach = signed_in("marketing", "pages/outreach.py")
    assert [w.value for w in outreach.warning] == [session.AUDIT_CLOSED] and not outreach.dataframe
    admin = signed_in("admin", "pages/audit.py")
    [alert] = [_as_read(e.value) for e in admin.error if e.value.startswith("Audit log alert")]
    assert all(part in alert for part in expected), alert
    assert not any("Hash chain intact" in s.value for s in admin.success)


def test_a_fresh_store_from_another_installation_in_place_of_the_log_is_refused(signed_in):
    signed_in("marketing", "pages/outreach.py")
    session.flush_audit()
    store = audit.store_path()
    _fresh_store_in_place_of(store)
    _closed_with_alert(signed_in, "not this installation's audit log")
    done = _verify(store)
    assert done.returncode == 1 and "not this installation's audit log" in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_a_fresh_store_tagged_with_the_key_in_place_of_the_log_is_noticed_by_the_running_app(signed_in):
    signed_in("marketing", "pages/outreach.py")
    session.flush_audit()
    store = audit.store_path()
    seen = session.audit_log().search(limit=1)[0].entry_id
    _fresh_store_in_place_of(store, with_key_of=audit.key_path(store))
    assert _verify(store).returncode == 0  # what cannot be told apart without the app's memory (README)
    _closed_with_alert(signed_in, f"entry {seen} (hash ", "that this app saw is gone or changed",
                       "the log was cut or replaced")


def _cut_tail(store: Path, keep: int) -> None:
    """Drop the delete guards, delete the newest entries, put the guards back."""
    _tamper(store, f"DELETE FROM audit_customers WHERE entry_id > {keep}",
            f"DELETE FROM audit_log WHERE entry_id > {keep}")
    with closing(sqlite3.connect(store, isolation_level=None)) as con:
        con.executescript(audit.SCHEMA)


def test_a_tail_cut_while_the_app_runs_is_noticed_at_the_next_view(signed_in):
    signed_in("marketing", "pages/outreach.py")
    signed_in("marketing", "pages/segments.py")
    session.flush_audit()
    store = audit.store_path()
    newest = AuditLog(store).search(limit=1)[0].entry_id
    _cut_tail(store, newest - 2)
    assert AuditLog(store).verify().intact  # the rest of the chain checks out
    _closed_with_alert(signed_in, f"entry {newest} (hash ", "that this app saw is gone or changed")


def test_the_app_writes_nothing_onto_a_cut_log_and_its_walk_finds_the_cut(tmp_path):
    path = tmp_path / "a.sqlite"
    log = _log_with_entries(path)
    _cut_tail(path, 1)
    with pytest.raises(AuditUnavailable, match=r"entry 3 .* that this app saw is gone or changed"):
        log.record("elif", "agent", "profile_view", customer_ids=[1000045])  # before any health check
    assert [e.entry_id for e in AuditLog(path).search()] == [1]  # no new entry took the id of a removed one
    assert any("entry 3" in note and "stopped writing" in note for note in AuditLog(path).notes())
    from crm360.__main__ import main
    assert main(["audit", "verify", "--store", str(path)]) == 1  # what is left checks out, but entries were removed

    walked = tmp_path / "b.sqlite"
    _log_with_entries(walked)
    watched = AuditLog(walked, watch=True)
    audit.flush(include_walks=True)
    assert watched.chain.intact and watched.chain.last_id == 3
    _cut_tail(walked, 2)
    chain = watched.check_chain()  # as the periodic walk does
    assert not chain.intact and "entry 3 (hash" in chain.summary and "tampered with" in watched.health()


def test_the_health_check_looks_again_only_when_the_file_changed(tmp_path, monkeypatch):
    log = _log_with_entries(tmp_path / "a.sqlite")
    log.health()
    looks: list[int] = []
    monkeypatch.setattr(log, "_check_new_entries", lambda: looks.append(1))
    for _ in range(100):
        log.health()
    assert not looks  # its own writes and an unchanged file: a stat only
    log.record("elif", "agent", "profile_view", customer_ids=[1000042])
    log.health()
    assert not looks
    AuditLog(tmp_path / "a.sqlite").record("cli", "command line", "export", customer_ids=[1])  # someone else wrote
    log.health()
    assert looks == [1]


def test_a_store_is_bound_to_the_key_it_was_made_with(tmp_path):
    _log_with_entries(tmp_path / "a.sqlite")
    other = tmp_path / "other"
    other.mkdir()
    AuditLog(other / "a.sqlite")
    os.replace(other / "a.sqlite.key", tmp_path / "a.sqlite.key")  # the store kept, its key swapped
    with pytest.raises(AuditUnavailable, match="not this installation's audit log"):
        AuditLog(tmp_path / "a.sqlite")
    (tmp_path / "a.sqlite.key").unlink()
    with pytest.raises(AuditUnavailable, match=r"key file a\.sqlite\.key is missing"):
        AuditLog(tmp_path / "a.sqlite")
    assert not (tmp_path / "a.sqlite.key").exists()  # no new key made for a bound store


def test_entries_that_cannot_be_written_close_the_pages_and_are_written_once_it_can(signed_in):
    signed_in("marketing", "pages/outreach.py")
    session.flush_audit()
    store = audit.store_path()
    blocker = store.with_name(store.name + "-wal")
    blocker.mkdir()  # the write-ahead log cannot be made: every write fails, as on a full or broken disk
    try:
        signed_in("marketing", "pages/segments.py")  # served: the failure shows once its entry is written
        session.flush_audit()
        refused = signed_in("marketing", "pages/segments.py")
        assert [w.value for w in refused.warning] == [session.AUDIT_CLOSED]
    finally:
        blocker.rmdir()
    reopened = signed_in("marketing", "pages/segments.py")
    assert not reopened.warning and reopened.dataframe
    session.flush_audit()
    views = [e for e in AuditLog().search(user_name="test-marketing", action="list_view") if e.page == "segments"]
    assert len(views) >= 2  # the entry kept while the disk failed was written, with the new one
    assert AuditLog().verify().intact


def test_the_health_check_a_lookup_waits_for_is_cheap(tmp_path):
    import time

    log = _log_with_entries(tmp_path / "a.sqlite")
    started = time.perf_counter()
    for _ in range(1_000):
        assert log.health() is None
    assert (time.perf_counter() - started) / 1_000 < 0.001  # well under a millisecond per view


# --- the admin's audit page -------------------------------------------------------------------

def test_the_audit_page_shows_the_chain_and_survives_bad_filters(signed_in):
    app = signed_in("admin", "pages/audit.py")
    audit.flush(include_walks=True)  # the first walk runs on a thread of its own; a busy machine may not be done
    app.run()
    assert any("Hash chain intact" in s.value for s in app.success)
    [customer] = [t for t in app.text_input if t.label == "Customer number"]
    for typed in ("²³", "１２３", "99999999999999", "-1", "1e5"):
        customer.input(typed).run()
        assert not app.exception and any("digits only" in e.value for e in app.error), typed
    customer.input("").run()
    [period] = [d for d in app.date_input if d.label == "Between"]
    period.set_value((period.value[0],)).run()  # only a start picked so far
    assert not app.exception and any("start and an end" in i.value for i in app.info)
    [check] = [b for b in app.button if b.label == "Check the whole chain now"]
    check.click().run()
    assert not app.exception and any("Hash chain intact" in s.value for s in app.success)


def test_the_command_line_writes_no_file_and_changes_no_user_the_audit_log_cannot_record(small_db_path, tmp_path):
    from crm360.campaigns import CampaignStore

    CampaignStore(tmp_path / "c.sqlite")
    AuditLog()
    audit.store_path().unlink()
    out = tmp_path / "list.csv"
    for args in (["outreach", "--db", str(small_db_path), "--campaigns", str(tmp_path / "c.sqlite"), "--out", str(out)],
                 ["users", "add", "yeni.kullanici", "--role", "agent"]):
        done = subprocess.run([sys.executable, "-m", "crm360", *args], cwd=ROOT, capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 1 and "missing" in done.stderr, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    assert not out.exists() and not audit.store_path().exists()
    assert "yeni.kullanici" not in [name for name, _, _ in UserStore().users()]


def test_the_audit_page_refuses_a_store_that_is_not_a_database_without_a_traceback(signed_in):
    audit.store_path().write_bytes(b"SQLite format 3\x00" + b"\xff" * 200)  # a store broken on disk
    app = signed_in("admin", "pages/audit.py")
    assert not app.exception
    [alert] = [e.value for e in app.error if e.value.startswith("Audit log alert")]
    assert "cannot be opened" in alert and [w.value for w in app.warning] == [session.AUDIT_CLOSED]


def test_a_new_store_and_its_key_are_readable_by_their_owner_only(tmp_path):
    AuditLog(tmp_path / "a.sqlite")
    for made in (tmp_path / "a.sqlite", tmp_path / "a.sqlite.key"):
        assert stat.S_IMODE(made.stat().st_mode) == 0o600, made


def test_the_audit_pages_own_check_shows_where_the_chain_breaks(signed_in):
    app = signed_in("admin", "pages/audit.py")
    session.flush_audit()
    audit.flush(include_walks=True)
    _tamper(audit.store_path(), "UPDATE audit_log SET page = 'elsewhere' WHERE entry_id = 1")
    [check] = [b for b in app.button if b.label == "Check the whole chain now"]
    check.click().run()
    assert not app.exception and not app.dataframe
    assert any("breaks at entry 1" in _as_read(e.value) for e in app.error)


# --- every view of named customers is recorded --------------------------------------------------

def _table_with(app: AppTest, column: str):
    [table] = [d.value for d in app.dataframe if column in d.value.columns]
    assert len(table), f"the table with {column} is empty in the test data"
    return table


def _listed(page: str, what: str) -> list[int]:
    """The customers named by the one list_view entry of that list."""
    [entry] = [e for e in _entries(action="list_view") if e.page == page and e.detail.get("list") == what]
    listed = AuditLog().customers_of(entry.entry_id)
    assert entry.customers == len(listed)
    return listed


def test_the_outreach_pages_service_tables_record_the_customers_they_show(signed_in, small_db, monkeypatch):
    from crm360.queries import outreach

    # The test data has no complaint left unanswered past the promise: five real customers have one here.
    overdue = small_db.frame(
        """SELECT row_number() OVER (ORDER BY customer_id) AS complaint_id, customer_id, full_name, city,
                  'late_delivery' AS category, 'high' AS severity, 'phone' AS channel,
                  TIMESTAMP '2026-06-28 10:00' AS opened_at, 49.5 AS hours_waiting, phone, email, net_revenue_try
           FROM customer_summary ORDER BY customer_id LIMIT 5""")
    monkeypatch.setattr(outreach, "overdue_complaints", lambda db, now, limit=500: overdue)
    app = signed_in("marketing", "pages/outreach.py")
    shown = _table_with(app, "complaint_id")
    assert set(_listed("outreach", "complaints past the promise")) == {int(c) for c in shown["customer_id"]} == set(
        overdue["customer_id"])
    fixed = _table_with(app, "fix_description")
    assert set(_listed("outreach", "tell them it is fixed")) == {int(c) for c in fixed["customer_id"]}


def test_the_campaign_member_table_records_the_customers_it_shows(signed_in, small_db):
    from datetime import date

    from crm360.campaigns import CampaignStore, NewCampaign

    first = small_db.frame("SELECT customer_id FROM customer_summary ORDER BY customer_id LIMIT 30")
    members = first["customer_id"].to_list()
    CampaignStore(Path(os.environ["CRM_CAMPAIGNS"])).create(
        NewCampaign("Spring", "Deniz", "email", date(2026, 6, 30), control_share=0.2), [(c, "") for c in members])
    app = signed_in("marketing", "pages/campaigns.py")
    shown = _table_with(app, "contacted_at")
    assert sorted(_listed("campaigns", "campaign members")) == sorted(int(c) for c in shown["customer_id"]) == members


def test_entries_are_stamped_in_istanbul_time_like_the_data_and_the_desk(tmp_path, monkeypatch):
    """On a server running in UTC, an entry still reads in the agents' time: the consent change on
    the customer page and its audit entry show the same clock time."""
    import time as clock_time
    from datetime import UTC, datetime, timedelta

    monkeypatch.setenv("TZ", "UTC")
    clock_time.tzset()
    try:
        log = AuditLog(tmp_path / "audit.sqlite")
        log.record("ayse", "agent", "consent_changed", page="customer", customer_ids=[1])
        [entry] = log.search(action="consent_changed")
        istanbul = datetime.now(UTC).replace(tzinfo=None) + timedelta(hours=3)
        assert abs(entry.at - istanbul) < timedelta(seconds=5)
    finally:
        monkeypatch.undo()
        clock_time.tzset()
