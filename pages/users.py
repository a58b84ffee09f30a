"""Users: who may sign in and with which role (admins only). Passwords are shown once, when made."""
import streamlit as st

from crm360 import access, session, ui

user = session.require("users")
st.title("Users")
st.caption("Roles: agent (customer lookup), marketing (segments, outreach, campaigns; contact details only where "
           "consented), executive (trends and aggregates, no individual customer), admin (data health, users, "
           "audit). The same is done from a shell with `python -m crm360 users ...`.")
store = session.users()
if shown := st.session_state.pop("new_password", None):
    st.success(f"Password for {ui.plain(shown[0])}: `{shown[1]}` — give it to them now; it is not shown again.",
               icon=":material/key:")

st.dataframe([{"user": name, "role": role, "since": created} for name, role, created in store.users()],
             hide_index=True, width="stretch")

add, change = st.columns(2)
with add.form("add_user", clear_on_submit=True):
    st.markdown("**Add a user**")
    name = st.text_input("User name", max_chars=40, help="2-40 characters: a-z, 0-9, '.', '_' or '-'")
    role = st.selectbox("Role", access.ROLES)
    if st.form_submit_button("Add"):
        try:
            password = store.add(name, role)
        except access.AccessError as error:
            st.error(ui.plain(error))  # names the user typed
        else:
            session.record("user_change", page="users", change="added", user_changed=name.strip().lower(),
                           new_role=role)
            st.session_state["new_password"] = (name.strip().lower(), password)
            st.rerun()

names = [name for name, _, _ in store.users()]
with change.form("change_user"):
    st.markdown("**Change a user**")
    chosen = st.selectbox("User", names)
    new_role = st.selectbox("New role", access.ROLES)
    what = st.radio("Change", ["set the role", "make a new password", "remove the user"], horizontal=True)
    if st.form_submit_button("Apply") and chosen:
        try:
            if what == "set the role":
                store.set_role(chosen, new_role)
            elif what == "make a new password":
                st.session_state["new_password"] = (chosen, store.set_password(chosen))
            elif chosen == user.user_name:
                raise access.AccessError("You cannot remove yourself; ask another admin.")
            else:
                store.remove(chosen)
        except access.AccessError as error:
            st.error(ui.plain(error))  # names the user typed
        else:
            session.record("user_change", page="users", change=what, user_changed=chosen,
                           new_role=new_role if what == "set the role" else None)
            st.rerun()
