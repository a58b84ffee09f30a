"""My follow-ups: the signed-in agent's open follow-up tasks (overdue, due today, upcoming), each
one click from its customer; for a service lead, every agent's, with overdue counts per owner."""
import polars as pl
import streamlit as st

from crm360 import clock, desk, session, ui, wrapup_view
from crm360.glossary import GLOSSARY
from crm360.queries import desk as tasks_query

TEXT = {
    "title": "My follow-ups",
    "team_title": "Follow-ups of the team",
    "now": "Now = {now:%d %b %Y %H:%M} in Istanbul, on the real clock (follow-ups are real appointments): "
           "'today' is this calendar day.",
    "none_mine": "No open follow-up: nothing is overdue or due. Tasks come from 'Log the call' on a customer's page.",
    "none_team": "No agent has an open follow-up.",
    "owners": "Owners (all when empty)",
    "per_owner": "Per owner",
    "tasks": "Tasks",
    "done_pick": "Done",
    "done_placeholder": "Pick the tasks you have done",
    "done_button": "Mark done",
    "done_none": "Pick the tasks to mark done first.",
    "done_saved": "Marked done: {tasks}.",
    "done_refused": "Not saved: {message}",
}
WHEN_LABELS = {"overdue": "Overdue", "today": "Due today", "upcoming": "Upcoming"}
METRICS = (("overdue", "Overdue", "follow_ups_overdue"), ("today", "Due today", "follow_ups_due_today"),
           ("upcoming", "Upcoming", "follow_ups_upcoming"))
_DONE, _PICK = "follow-ups-done", "follow-ups-done-pick"

user = session.require("follow-ups")
team_view = user.role in ("service_lead", "all")  # the service lead leads the agents; local mode sees it all
st.title(TEXT["team_title"] if team_view else TEXT["title"])
db = ui.database()
now = clock.wall()
st.caption(TEXT["now"].format(now=now))
store = wrapup_view.desk_store()

if saved := st.session_state.pop(_DONE, None):
    closed_message, refused_message = saved
    st.success(closed_message, icon=":material/check_circle:")
    if refused_message:
        st.error(ui.plain(refused_message))

# Tasks the agent picked to mark done stay listed even when closed meanwhile (in another tab), so the
# click is answered ("already done") instead of the form vanishing under it.
picked = st.session_state.get(_PICK) or []
tasks = store.tasks(owner=None if team_view else user.user_name, open_only=not picked)
if picked:
    tasks = tasks.filter(pl.col("done_at").is_null() | pl.col("task_id").is_in(picked))
tasks = tasks_query.classify_tasks(tasks, now)
if team_view and tasks.height:
    chosen_owners = st.multiselect(TEXT["owners"], sorted(set(tasks["owner"])), key="follow-ups-owners")
    if chosen_owners:
        tasks = tasks.filter(pl.col("owner").is_in(chosen_owners))

counts = tasks_query.counts_by_when(tasks)
for column, (when, label, term) in zip(st.columns(len(METRICS) + 1), METRICS, strict=False):
    column.metric(label, f"{counts[when]:,}", help=GLOSSARY[term])
if tasks.is_empty():
    st.info(TEXT["none_team"] if team_view else TEXT["none_mine"])
    st.stop()

if team_view:
    st.subheader(TEXT["per_owner"], anchor=False)
    st.dataframe(tasks_query.overdue_by_owner(tasks), hide_index=True, width="stretch", column_config={
        "owner": "Owner", "open": st.column_config.NumberColumn("Open", help=GLOSSARY["follow_ups_open"]),
        "overdue": st.column_config.NumberColumn("Overdue", help=GLOSSARY["follow_ups_overdue"]),
        "today": st.column_config.NumberColumn("Due today", help=GLOSSARY["follow_ups_due_today"]),
        "upcoming": st.column_config.NumberColumn("Upcoming", help=GLOSSARY["follow_ups_upcoming"])})

names = tasks_query.customer_names(db, tasks["customer_id"].to_list())
listed = (tasks.join(names, on="customer_id", how="left")
          .with_columns(ui.profile_link(user), pl.col("when").replace_strict(WHEN_LABELS).alias("when_label")))
customer_ids = listed["customer_id"].unique(maintain_order=True).to_list()
session.record_when_changed("follow-ups", tuple(listed["task_id"].to_list()), "list_view", page="follow-ups",
                            customer_ids=customer_ids, list="team follow-ups" if team_view else "my follow-ups")
st.subheader(TEXT["tasks"], anchor=False)
st.dataframe(listed.select("profile", "task_id", "when_label", "due_at", "customer_id", "full_name", "note",
                           *(["owner"] if team_view else []), "created_by", "created_at"),
             hide_index=True, width="stretch", column_config={
                 "profile": ui.profile_column(user), "when_label": "When",
                 "task_id": st.column_config.NumberColumn("Task", format="%d"),
                 "due_at": st.column_config.DatetimeColumn("Due", format="DD.MM.YYYY HH:mm"),
                 "customer_id": st.column_config.NumberColumn("Customer", format="%d"), "full_name": "Name",
                 "note": "What to do", "owner": "Owner", "created_by": "Made by",
                 "created_at": st.column_config.DatetimeColumn("Made", format="DD.MM.YYYY HH:mm")})

# Only the agent's own tasks can be marked done here: the service lead's view is for seeing who is
# behind, and each task is closed by whoever called the customer back.
mine = listed.filter(pl.col("owner") == user.user_name)
if mine.height:
    labels = {row["task_id"]: f"#{row['task_id']} · {row['due_at']:%d.%m %H:%M} · {row['full_name'] or ''} "
                              f"#{row['customer_id']} · {row['note'] or ''}"[:160]
              for row in mine.iter_rows(named=True)}
    with st.form("follow-ups-done-form"):
        # No "Select all": one slip would close every task at once.
        done = st.multiselect(TEXT["done_pick"], list(labels), format_func=labels.get, select_all=False,
                              placeholder=TEXT["done_placeholder"], key=_PICK)
        clicked = st.form_submit_button(TEXT["done_button"], type="primary")
    if clicked and not done:
        st.warning(TEXT["done_none"])
    if clicked and done:
        closed, refusals = [], []
        for task_id in done:  # each task is its own save: one already closed elsewhere does not stop the rest
            try:
                store.complete_task(task_id, user.user_name)
            except desk.DeskError as error:
                refusals.append(str(error))
                continue
            closed.append(task_id)
            session.record("task_done", page="follow-ups", task_id=task_id,
                           customer_ids=mine.filter(pl.col("task_id") == task_id)["customer_id"].to_list())
        refused = TEXT["done_refused"].format(message=" ".join(refusals)) if refusals else None
        if not closed:  # nothing changed: the choice stays as it was
            st.error(ui.plain(refused))
        else:
            st.session_state[_DONE] = (TEXT["done_saved"].format(tasks=", ".join(f"#{t}" for t in closed)), refused)
            del st.session_state[_PICK]
            st.rerun()
