"""Users: who may sign in and with which role (admins only). Passwords are shown once, when made.
A role change or a removal waits for a second click, which says what it did; the last active admin
keeps the role (the store refuses, so the command line does too)."""
import streamlit as st

from crm360 import access, session, ui

SET_ROLE, NEW_PASSWORD, REMOVE = "set the role", "make a new password", "remove the user"
TEXT = {
    "caption": "Roles: agent (customer lookup), marketing (segments, outreach, campaigns; contact details only where "
               "consented), service lead (outreach and campaigns for customers' own matters, with the details each "
               "needs), executive (trends and aggregates, no individual customer), admin (data health, users, "
               "audit). The same is done from a shell with `python -m crm360 users ...`.",
    "password": "Password for {name}: `{password}` — give it to them now; it is not shown again.",
    "show_removed": "Show removed users",
    "removed_name": "{name} belongs to a removed user: restore them under “Restore a removed user” below.",
    "remove_self": "You cannot remove yourself; ask another admin.",
    "same_role": "{name} is {role} already.",
    "confirm_role": "Make {name} {role}? They are {was} now; the change applies from their next click.",
    "confirm_remove": "Remove {name}? Their session ends at their next click and they cannot sign in again; "
                      "“Restore a removed user” brings them back.",
    "done_role": "{name} is now {role} (was {was}).",
    "done_remove": "Removed {name}. “Restore a removed user” brings them back.",
    "done_restore": "Restored {name} ({role}).",
}


def title(role: str) -> str:
    return access.ROLE_TITLES.get(role, role)


def apply(store: access.UserStore, change: dict) -> str:
    """Make a confirmed change; returns what it did, for the page to say."""
    name = change["name"]
    if change["what"] == SET_ROLE:
        was = store.set_role(name, change["role"])
        return TEXT["done_role"].format(name=name, role=title(change["role"]), was=title(was))
    store.remove(name)
    return TEXT["done_remove"].format(name=name)


user = session.require("users")
st.title("Users")
st.caption(TEXT["caption"])
store = session.users()
if shown := st.session_state.pop("new_password", None):
    st.success(TEXT["password"].format(name=ui.plain(shown[0]), password=shown[1]), icon=":material/key:")
if done := st.session_state.pop("user_change_done", None):
    st.success(ui.plain(done), icon=":material/check:")

active = store.users()
removed = store.removed_users()
listed = [{"user": name, "role": role, "since": created, "removed": False} for name, role, created in active]
if removed and st.toggle(TEXT["show_removed"]):
    listed += [{"user": name, "role": role, "since": created, "removed": True} for name, role, created in removed]
st.dataframe(listed, hide_index=True, width="stretch")

add, change = st.columns(2)
with add.form("add_user", clear_on_submit=True):
    st.markdown("**Add a user**")
    name = st.text_input("User name", max_chars=40, help="2-40 characters: a-z, 0-9, '.', '_' or '-'")
    role = st.selectbox("Role", access.ROLES)
    if st.form_submit_button("Add"):
        try:
            password = store.add(name, role)
        except access.RemovedUserError:
            st.error(ui.plain(TEXT["removed_name"].format(name=name.strip().lower())))
        except access.AccessError as error:
            st.error(ui.plain(error))
        else:
            session.record("user_change", page="users", change="added", user_changed=name.strip().lower(),
                           new_role=role)
            st.session_state["new_password"] = (name.strip().lower(), password)
            st.rerun()

roles = {name: role for name, role, _ in active}
with change.form("change_user"):
    st.markdown("**Change a user**")
    chosen = st.selectbox("User", list(roles))
    new_role = st.selectbox("New role", access.ROLES)
    what = st.radio("Change", [SET_ROLE, NEW_PASSWORD, REMOVE], horizontal=True)
    if st.form_submit_button("Apply") and chosen:
        if what == NEW_PASSWORD:
            try:
                st.session_state["new_password"] = (chosen, store.set_password(chosen))
            except access.AccessError as error:
                st.error(ui.plain(error))
            else:
                session.record("user_change", page="users", change=what, user_changed=chosen, new_role=None)
                st.rerun()
        elif what == REMOVE and chosen == user.user_name:
            st.error(TEXT["remove_self"])
        elif what == SET_ROLE and new_role == roles[chosen]:
            st.info(ui.plain(TEXT["same_role"].format(name=chosen, role=title(new_role))))
        else:  # the second step: nothing changes until it is confirmed
            try:
                store.check_admin_kept(chosen, new_role if what == SET_ROLE else None)
            except access.LastAdminError as error:
                st.error(ui.plain(error))
                st.stop()
            st.session_state["pending_user_change"] = {"what": what, "name": chosen, "role": new_role,
                                                       "was": roles[chosen]}

if pending := st.session_state.get("pending_user_change"):
    with st.container(border=True):
        question = (TEXT["confirm_role"].format(name=pending["name"], role=title(pending["role"]),
                                                was=title(pending["was"]))
                    if pending["what"] == SET_ROLE else TEXT["confirm_remove"].format(name=pending["name"]))
        st.warning(ui.plain(question), icon=":material/help:")
        confirm, cancel = st.columns(2)
        if confirm.button("Confirm", type="primary"):
            del st.session_state["pending_user_change"]
            try:
                done = apply(store, pending)
            except access.AccessError as error:
                st.error(ui.plain(error))
            else:
                session.record("user_change", page="users", change=pending["what"], user_changed=pending["name"],
                               new_role=pending["role"] if pending["what"] == SET_ROLE else None)
                st.session_state["user_change_done"] = done
                st.rerun()
        if cancel.button("Cancel"):
            del st.session_state["pending_user_change"]
            st.rerun()

if removed:
    with st.form("restore_user"):
        st.markdown("**Restore a removed user**")
        back = st.selectbox("Removed user", [name for name, _, _ in removed])
        if st.form_submit_button("Restore"):
            try:
                password = store.restore(back)
            except access.AccessError as error:
                st.error(ui.plain(error))
            else:
                restored_role = {name: role for name, role, _ in removed}[back]
                session.record("user_change", page="users", change="restored", user_changed=back,
                               new_role=restored_role)
                st.session_state["new_password"] = (back, password)
                st.session_state["user_change_done"] = TEXT["done_restore"].format(name=back,
                                                                                   role=title(restored_role))
                st.rerun()
