"""Managing users safely: a removed user's name stays theirs and comes back with `restore`; the
last active admin can be neither removed nor demoted (in the store, so on the command line and
the Users page alike); the page asks before a role change or a removal and says what it did."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from streamlit.testing.v1 import AppTest

from crm360 import access
from crm360.__main__ import main
from crm360.access import AccessError, LastAdminError, RemovedUserError, User, UserStore

PASSWORD = "correct horse battery staple"
OTHER_PASSWORD = "another long enough secret"


@pytest.fixture
def store() -> UserStore:
    return UserStore(access.store_path())  # CRM_USERS: a file of this test's own (tests/conftest.py)


def _users(capsys, *args: str) -> tuple[int, str, str]:
    try:
        code = main(["users", "--store", str(access.store_path()), *args])
    except SystemExit as stop:
        code = stop.code
    said = capsys.readouterr()
    return code, said.out, said.err


# --- the store ---------------------------------------------------------------------------------

def test_a_removed_users_name_is_refused_to_a_new_user_and_restore_brings_them_back(store):
    store.add("elif", "marketing", PASSWORD)
    store.remove("elif")
    with pytest.raises(RemovedUserError, match="belongs to a removed user"):
        store.add("Elif", "agent", OTHER_PASSWORD)
    assert store.removed_users()[0][:2] == ("elif", "marketing") and store.users() == []
    new_password = store.restore("elif")
    assert store.users()[0][:2] == ("elif", "marketing") and store.removed_users() == []
    with pytest.raises(AccessError, match="Wrong"):  # what they had before may have left with them
        store.sign_in("elif", PASSWORD)
    assert store.sign_in("elif", new_password).role == "marketing"
    with pytest.raises(AccessError, match="not removed"):
        store.restore("elif")
    with pytest.raises(AccessError, match="no user"):
        store.restore("nobody")


def test_the_last_active_admin_can_be_neither_removed_nor_demoted(store):
    store.add("boss", "admin", PASSWORD)
    store.add("deniz", "admin", PASSWORD)
    store.add("elif", "agent", PASSWORD)
    assert store.set_role("deniz", "marketing") == "admin"  # another admin is left: allowed
    with pytest.raises(LastAdminError, match="'boss' is the last admin and cannot be demoted"):
        store.set_role("boss", "agent")
    with pytest.raises(LastAdminError, match="cannot be removed"):
        store.remove("boss")
    store.set_role("boss", "admin")  # staying admin is no demotion
    store.set_role("deniz", "admin")
    store.remove("deniz")  # a removed admin manages nothing: boss is the last one again
    with pytest.raises(LastAdminError):
        store.set_role("boss", "executive")
    store.set_role("elif", "admin")
    store.remove("boss")
    assert [(name, role) for name, role, _ in store.users()] == [("elif", "admin")]


def test_two_admins_demoting_each_other_at_once_leave_one_admin(store):
    store.add("boss", "admin", PASSWORD)
    store.add("deniz", "admin", PASSWORD)
    start = threading.Barrier(2)

    def demote(name: str) -> str:
        start.wait()
        try:
            UserStore(access.store_path()).set_role(name, "agent")  # a store of its own, as another process has
        except LastAdminError:
            return "refused"
        return "done"

    with ThreadPoolExecutor(2) as pool:
        outcomes = sorted(pool.map(demote, ["boss", "deniz"]))
    assert outcomes == ["done", "refused"]
    assert [role for _, role, _ in store.users()].count("admin") == 1


# --- the command line ------------------------------------------------------------------------

def test_users_add_of_a_removed_name_says_how_to_restore_and_list_all_shows_them(capsys, store):
    store.add("elif", "agent", PASSWORD)
    store.remove("elif")
    code, _, err = _users(capsys, "add", "elif", "--role", "agent")
    assert code == 1 and err.splitlines() == [
        "users: 'elif' belongs to a removed user: `python -m crm360 users restore elif` brings them back "
        "(`users list --all` shows them)"]
    assert "elif" not in _users(capsys, "list")[1]
    code, listed, _ = _users(capsys, "list", "--all")
    assert code == 0 and "elif" in listed and "(removed" in listed
    code, said, _ = _users(capsys, "restore", "elif")
    assert code == 0 and said.startswith("restored elif; new password: ")
    assert store.sign_in("elif", said.rsplit(" ", 1)[1].strip()).role == "agent"
    code, listed, _ = _users(capsys, "list")
    assert "elif" in listed and "removed" not in listed


def test_the_users_command_keeps_the_last_admin_and_says_what_a_role_change_did(capsys, store):
    store.add("boss", "admin", PASSWORD)
    store.add("elif", "agent", PASSWORD)
    for args in (("remove", "boss"), ("role", "boss", "agent")):
        code, _, err = _users(capsys, *args)
        assert code == 1 and len(err.splitlines()) == 1 and "'boss' is the last admin" in err
    assert dict((name, role) for name, role, _ in store.users())["boss"] == "admin"
    assert _users(capsys, "role", "elif", "admin")[1] == "elif is now admin (was agent)\n"
    assert _users(capsys, "remove", "boss")[0] == 0  # elif is an admin now
    code, _, err = _users(capsys, "remove", "elif")
    assert code == 1 and "'elif' is the last admin" in err


# --- the Users page ----------------------------------------------------------------------------

def _signed_in_on(page: str, user: User, monkeypatch, db_path, tmp_path, store, elif_role: str) -> AppTest:
    """The app signed in as `user` on `page`, with `boss` the only admin and `elif` of `elif_role`."""
    monkeypatch.delenv("CRM_AUTH", raising=False)
    monkeypatch.setenv("CRM_DB", str(db_path))
    monkeypatch.setenv("CRM_CAMPAIGNS", str(tmp_path / "campaigns.sqlite"))
    store.add("boss", "admin", PASSWORD)
    store.add("elif", elif_role, PASSWORD)
    app = AppTest.from_file("../dashboard.py", default_timeout=60)
    app.session_state["signed_in_user"] = user
    app.run()
    app.switch_page(page).run()
    assert not app.exception and not app.error, app.exception or app.error
    return app


@pytest.fixture
def users_page(small_db_path, monkeypatch, tmp_path, store):
    """The Users page signed in as `boss`, the only admin in the store, beside the agent `elif`."""
    return _signed_in_on("pages/users.py", User("boss", "admin"), monkeypatch, small_db_path, tmp_path, store, "agent")


def _change(app: AppTest, name: str, what: str, role: str = "agent") -> None:
    [chosen] = [s for s in app.selectbox if s.label == "User"]
    chosen.select(name)
    [new_role] = [s for s in app.selectbox if s.label == "New role"]
    new_role.select(role)
    app.radio[0].set_value(what)
    [apply] = [b for b in app.button if b.label == "Apply"]
    apply.click().run()
    assert not app.exception, app.exception


def _click(app: AppTest, label: str) -> None:
    [button] = [b for b in app.button if b.label == label]
    button.click().run()
    assert not app.exception, app.exception


def test_a_role_change_on_the_page_waits_for_confirmation_and_says_what_it_did(users_page, store):
    app = users_page
    _change(app, "elif", "set the role", "marketing")
    assert any("Make elif Marketing? They are Agent now" in w.value.replace("\\", "") for w in app.warning)
    assert dict((n, r) for n, r, _ in store.users())["elif"] == "agent"  # nothing changed yet
    _click(app, "Cancel")
    assert dict((n, r) for n, r, _ in store.users())["elif"] == "agent" and not app.warning
    _change(app, "elif", "set the role", "agent")
    assert any("elif is Agent already." in i.value.replace("\\", "") for i in app.info) and not app.warning
    _change(app, "elif", "set the role", "marketing")
    _click(app, "Confirm")
    assert dict((n, r) for n, r, _ in store.users())["elif"] == "marketing"
    assert any("elif is now Marketing (was Agent)." in s.value.replace("\\", "") for s in app.success)


def test_the_page_refuses_to_demote_or_remove_the_last_admin_even_oneself(users_page, store):
    app = users_page
    _change(app, "boss", "set the role", "agent")  # refused at once: no question asked that would be refused
    assert any("'boss' is the last admin and cannot be demoted" in e.value.replace("\\", "") for e in app.error)
    assert not [b for b in app.button if b.label == "Confirm"] and not app.warning
    store.add("deniz", "admin", PASSWORD)
    store.set_role("boss", "admin")
    app.run()
    _change(app, "deniz", "remove the user")
    assert any("Remove deniz?" in w.value for w in app.warning)
    _click(app, "Confirm")
    assert [name for name, _, _ in store.users()] == ["boss", "elif"]
    _change(app, "boss", "set the role", "agent")
    assert any("last admin" in e.value for e in app.error) and store.users()[0][:2] == ("boss", "admin")


def test_the_page_names_a_removed_user_and_restores_them(users_page, store):
    app = users_page
    store.remove("elif")
    app.run()
    [name] = [t for t in app.text_input if t.label == "User name"]
    name.input("elif")
    _click(app, "Add")
    assert any("belongs to a removed user" in e.value and "Restore a removed user" in e.value for e in app.error)
    assert all(row != "elif" for row in app.dataframe[0].value["user"])
    app.toggle[0].set_value(True).run()
    shown = app.dataframe[0].value
    assert list(shown.loc[shown["user"] == "elif", "removed"]) == [True]
    [back] = [s for s in app.selectbox if s.label == "Removed user"]
    back.select("elif")
    _click(app, "Restore")
    password = next(s.value for s in app.success if "Password for" in s.value).split("`")[1]
    assert store.sign_in("elif", password).role == "agent"
    assert any("Restored elif (Agent)." in s.value.replace("\\", "") for s in app.success)


# --- a signed-in user removed or given another role --------------------------------------------

@pytest.fixture
def elif_signed_in(small_db_path, monkeypatch, tmp_path, store):
    """elif, a marketing user, signed in on the segments page; boss is the admin."""
    return _signed_in_on("pages/segments.py", User("elif", "marketing"), monkeypatch, small_db_path, tmp_path, store,
                         "marketing")


def test_removing_a_signed_in_user_ends_their_session_at_their_next_click(elif_signed_in, store):
    store.remove("elif")
    elif_signed_in.run()
    assert "signed_in_user" not in elif_signed_in.session_state
    # AppTest reruns the switched-to page itself: it refuses; the app's entry point shows the sign-in
    # form with this notice.
    assert any("Sign in to see this page" in error.value for error in elif_signed_in.error)
    assert "removed this account" in elif_signed_in.session_state["sign_in_notice"]
    assert not elif_signed_in.dataframe


def test_a_new_role_applies_at_the_users_next_click(elif_signed_in, store):
    store.set_role("elif", "agent")
    elif_signed_in.run()
    assert elif_signed_in.session_state["signed_in_user"] == User("elif", "agent")
    assert any("may not open this page" in error.value for error in elif_signed_in.error)  # segments: marketing's
