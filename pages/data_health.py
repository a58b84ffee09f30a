"""Data health: every ETL run, its row accounting per file, and the quarantined rows."""
import streamlit as st

from crm360 import export, ui
from crm360.glossary import GLOSSARY
from crm360.queries import health

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
    st.error(f"Not loaded: {failed['failure']}", icon=":material/error:")
st.dataframe(files, hide_index=True, width="stretch", column_config={
    **{name: st.column_config.NumberColumn(name.replace("_", " "), help=GLOSSARY[name], format="%d")
       for name in ("rows_read", "rows_loaded", "rows_duplicate", "rows_rejected", "values_cleared")},
    "read_notes": st.column_config.TextColumn("read as", help=GLOSSARY["read_notes"]),
    "failure": st.column_config.TextColumn("failure", help=GLOSSARY["file_failure"]),
})
if files["reconciles"].all():
    st.success("Every file reconciles: rows read = loaded + duplicates + rejected.")
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
    st.dataframe(rows, hide_index=True, width="stretch")
    st.caption(f"First {rows.height} rows by file and line. Raw values are shown as text.")
    # The whole quarantine, built when the button is clicked: the file, line, field, reason and
    # raw value of every rejected row and cleared value, for the team that owns the export.
    st.download_button(
        f"Download the quarantine of {'every file' if chosen == 'all files' else chosen} (CSV)",
        lambda: export.to_csv(health.quarantine_rows(db, None if chosen == "all files" else chosen, limit=None)),
        file_name="quarantine.csv", mime="text/csv", icon=":material/download:")
