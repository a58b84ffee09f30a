"""The value models' evidence: fitted parameters, how well they fit, and how well they forecast
a period they did not see."""
import plotly.graph_objects as go
import streamlit as st

from crm360 import config, session, ui
from crm360.glossary import GLOSSARY
from crm360.queries import value

user = session.require("model")
st.title("Lifetime-value model")
db = ui.database()
ui.now_caption(db)
st.markdown(
    "Every customer's predicted value and churn risk come from two models fitted by maximum likelihood "
    "on every load: **BG/NBD** (how often a customer buys while active, and the chance they have stopped) "
    "and **Gamma-Gamma** (how much they spend per purchase). Below: the fits, and a check of the purchase "
    f"model on the last {config.BACKTEST_HOLDOUT_WEEKS} weeks it did not see.")

fits = value.latest_fits(db)
if not fits:
    st.info("This database has no model fits: it was loaded by an older version of the ETL. Run the ETL again.")
    st.stop()

NAMES = {"bg_nbd": "BG/NBD (purchases)", "gamma_gamma": "Gamma-Gamma (spend)"}
for purpose, title in (("scoring", "Fits behind today's scores"), ("backtest", "Fits on the calibration period")):
    st.subheader(title, anchor=False)
    cols = st.columns(2)
    for col, fit in zip(cols, [f for f in fits if f["purpose"] == purpose], strict=False):
        with col.container(border=True):
            state = "converged" if fit["converged"] else "DID NOT CONVERGE: its scores are left empty"
            st.markdown(f"**{NAMES.get(fit['model'], fit['model'])}**, data to {fit['cutoff']:%d.%m.%Y}: {state}")
            params = fit["params"]
            st.markdown(" · ".join(f"{name} = {v:.4g}" if v is not None else f"{name} = —"
                                   for name, v in params.items()))
            st.caption(f"log-likelihood {fit['log_likelihood']:,.1f} · {fit['customers']:,} customers"
                       + (f" in {fit['histories']:,} distinct histories" if fit["histories"] else "")
                       + f" · {fit['iterations']} iterations, {fit['seconds']:.2f} s · {fit['message']}",
                       help=GLOSSARY["model_log_likelihood"])

st.subheader("Does the purchase model forecast what happened?", anchor=False)
weekly = value.backtest_weekly(db)
by_frequency = value.backtest_by_frequency(db)
if weekly.is_empty():
    st.info("No holdout check in this load: the calibration fit did not converge or the data spans too little time.")
    st.stop()
predicted, actual = weekly.row(-1)[1:]
error = (predicted - actual) / actual if actual else None
cols = st.columns(3)
cols[0].metric("Forecast repeat purchases", f"{predicted:,.0f}",
               help="Sum over customers of the purchase days BG/NBD expected in the holdout weeks, fitted on the "
                    "weeks before them only.")
cols[1].metric("Actual repeat purchases", f"{actual:,.0f}",
               help="Purchase days in the holdout weeks by customers who had bought before the cut-off.")
cols[2].metric("Forecast error", f"{error:+.1%}" if error is not None else "—",
               help="(forecast - actual) / actual over the whole holdout.")

figure = go.Figure([
    go.Scatter(x=weekly["week"], y=weekly["actual_cumulative"], name="actual", mode="lines",
               line={"width": 3}),
    go.Scatter(x=weekly["week"], y=weekly["predicted_cumulative"], name="forecast", mode="lines",
               line={"dash": "dash", "width": 3})])
figure.update_layout(title="Cumulative repeat purchases, week by week of the holdout",
                     xaxis_title="week after the cut-off", yaxis_title="repeat purchase days", height=380)
st.plotly_chart(figure, width="stretch")

if not by_frequency.is_empty():
    labels = [f"{n}+" if n == by_frequency["calibration_repeat_purchases"].max() else str(n)
              for n in by_frequency["calibration_repeat_purchases"]]
    figure = go.Figure([
        go.Bar(x=labels, y=by_frequency["actual_mean"], name="actual"),
        go.Bar(x=labels, y=by_frequency["predicted_mean"], name="forecast")])
    figure.update_layout(title="Holdout purchases per customer, by repeat purchases before the cut-off",
                         xaxis_title="repeat purchases before the cut-off", yaxis_title="purchases per customer",
                         barmode="group", height=380)
    st.plotly_chart(figure, width="stretch")
    gap = (by_frequency["predicted_mean"] - by_frequency["actual_mean"]).abs()
    st.caption(f"Mean absolute error across these groups: {gap.mean():.3f} purchases per customer; "
               f"largest: {gap.max():.3f}. Analysts can rerun this with any cut-off: "
               "`python -m crm360 backtest --db PATH --calibration-end YYYY-MM-DD`.")
    st.dataframe(by_frequency, hide_index=True, width="stretch", column_config={
        "calibration_repeat_purchases": "Repeat purchases before the cut-off",
        "customers": st.column_config.NumberColumn("Customers", format="%d"),
        "predicted_mean": st.column_config.NumberColumn("Forecast per customer", format="%.3f"),
        "actual_mean": st.column_config.NumberColumn("Actual per customer", format="%.3f")})

history = value.fit_history(db)
if history.height > 1:
    st.subheader("The purchase model across loads", anchor=False)
    st.dataframe(history, hide_index=True, width="stretch")
