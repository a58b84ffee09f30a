"""Data health: every ETL run, its row accounting per file, and the quarantined rows."""
import polars as pl
import streamlit as st

from crm360 import identity_review, session, ui
from crm360.glossary import GLOSSARY, IDENTITY_RULES
from crm360.queries import health

user = session.require("data-health")
st.title("Data health")
db = ui.database()
info = health.dataset_info(db)
st.caption(f"Serving run {info['run_id']}, loaded {info['loaded_at']:%d %b %Y %H:%M}; newest "
           f"event {info['data_as_of']:%d %b %Y %H:%M}.")

runs = health.recent_runs(db)
st.subheader("Runs", anchor=False)
st.dataframe(runs, hide_index=True, width="stretch")

st.subheader("Files in the serving run", anchor=False)
files = health.run_files(db, info["run_id"])
for failed in files.filter(files["failure"].is_not_null()).iter_rows(named=True):
    st.error(f"Not loaded: {ui.plain(failed['failure'])}", icon=":material/error:")
st.dataframe(files, hide_index=True, width="stretch", column_config={
    **{name: st.column_config.NumberColumn(name.replace("_", " "), help=GLOSSARY[name], format="%d")
       for name in ("rows_read", "rows_loaded", "rows_merged", "rows_duplicate", "rows_rejected", "values_cleared")},
    "read_notes": st.column_config.TextColumn("read as", help=GLOSSARY["read_notes"]),
    "failure": st.column_config.TextColumn("failure", help=GLOSSARY["file_failure"]),
})
if files["reconciles"].all():
    st.success("Every file reconciles: rows read = loaded + merged + duplicates + rejected.")
else:
    st.error("Some file does not reconcile; see the table above.")

st.subheader("Quarantine", anchor=False)
summary = health.quarantine_summary(db)
if summary.is_empty():
    st.success("No row was rejected and no value cleared.")
else:
    st.dataframe(summary, hide_index=True, width="stretch")
    chosen = st.selectbox("Show rows from", ["all files", *summary["source_file"].unique().sort()])
    rows = health.quarantine_rows(db, None if chosen == "all files" else chosen)
    # Raw values carry no customer number but may be anyone's name, phone or e-mail: the entry says
    # which rows were shown (the first ones of this run and file, by file and line).
    session.record_when_changed("quarantine-rows", (info["run_id"], chosen), "list_view", page="data-health",
                                list="quarantine", run=info["run_id"], file=chosen, rows=rows.height)
    st.dataframe(rows, hide_index=True, width="stretch")
    st.caption(f"First {rows.height} rows by file and line. Raw values are shown as text.")
    # The whole quarantine, built when the button is clicked: the file, line, field, reason and
    # raw value of every rejected row and cleared value, for the team that owns the export.
    st.download_button(
        f"Download the quarantine of {'every file' if chosen == 'all files' else chosen} (CSV)",
        session.export_file("data-health",
                            lambda: health.quarantine_rows(db, None if chosen == "all files" else chosen, limit=None),
                            what="quarantine", file=chosen),
        file_name="quarantine.csv", mime="text/csv", icon=":material/download:")

st.subheader("Customers across systems", anchor=False)
identity = health.identity_summary(db)
if identity.is_empty():
    st.caption("No customer record was merged, and no export without customer numbers was linked.")
else:
    st.dataframe(identity, hide_index=True, width="stretch", column_config={
        "records": st.column_config.NumberColumn("records", help=GLOSSARY["identity_records"], format="%d"),
        "rows": st.column_config.NumberColumn("rows", help="Rows of the export that belong to these records.",
                                              format="%d")})
    st.caption(" · ".join(f"**{rule}**: {meaning}" for rule, meaning in IDENTITY_RULES.items()
                          if rule in set(identity["rule"])))
    merged = health.merged_records(db)
    if merged.height:
        merged_ids = pl.concat([merged["merged_id"], merged["survivor_id"]]).drop_nulls().unique(
            maintain_order=True).to_list()
        session.record_when_changed("merged-records", tuple(merged_ids), "list_view", page="data-health",
                                    customer_ids=merged_ids, list="merged customer numbers")
        with st.expander(f"Merged customer numbers ({merged.height:,} shown)"):
            st.dataframe(merged, hide_index=True, width="stretch")

st.subheader("Possible duplicates", anchor=False, help=GLOSSARY["possible_duplicates"])
if saved := st.session_state.pop("identity_decision_saved", None):
    st.success(saved)
decisions = identity_review.DecisionStore()
pairs, pending = health.review_pairs(db, decisions.decided_pairs())
if not pending:
    st.success("No possible duplicate is waiting for a decision.")
else:
    shown = f"; the first {pairs.height} below." if pending > pairs.height else "."
    st.caption(f"{pending:,} pairs to judge{shown}")
    pair_ids = pl.concat([pairs["customer_a"], pairs["customer_b"]]).drop_nulls().unique(maintain_order=True).to_list()
    session.record_when_changed("possible-duplicates", tuple(pair_ids), "list_view", page="data-health",
                                customer_ids=pair_ids, list="possible duplicates")
    st.dataframe(pairs, hide_index=True, width="stretch")
    labels = {f"{r['customer_a']} {r['full_name_a']} / {r['customer_b']} {r['full_name_b']} ({r['reasons']})":
              (r["customer_a"], r["customer_b"]) for r in pairs.iter_rows(named=True)}
    with st.form("identity_decision", clear_on_submit=True):
        chosen_pair = st.selectbox("Pair", list(labels))
        verdict = st.radio("These two records are", ["the same person", "different people"], horizontal=True)
        decided_by = st.text_input("Your name", max_chars=identity_review.MAX_TEXT)
        note = st.text_input("Why (optional)", max_chars=identity_review.MAX_TEXT)
        if st.form_submit_button("Save the decision"):
            a, b = labels[chosen_pair]
            try:
                decisions.decide(a, b, verdict == "the same person", decided_by, note)
                session.record("identity_decision", page="data-health", customer_ids=[a, b],
                               same_person=verdict == "the same person", decided_by=decided_by)
            except identity_review.DecisionError as error:
                st.error(str(error))
            else:
                # Shown after the rerun that takes the pair off the list.
                st.session_state["identity_decision_saved"] = f"Saved: {a} and {b} " + (
                    "will be merged by the next load." if verdict == "the same person"
                    else "stay apart and will not be proposed again.")
                st.rerun()
