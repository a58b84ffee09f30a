-- One row per customer: who they are, what they bought, when we last heard from them and
-- what is still open. Every page reads a customer's headline numbers from here.
--   consent_email/sms/phone: marketing consent as every list applies it (marketing_consent: the
--     CRM's, less channels İYS last refused; iys_refused lists those), so the agent sees what
--     marketing may do.
--   orders / net_revenue_try: completed orders only (returns and cancellations removed).
--   open complaint: status is not 'resolved'; its age runs from opened_at to data_as_of.
--   value_top_share: the share of customers with at least this net revenue (0.03 = top 3%).
--   usual_days_between_orders: (last - first purchase) / (orders - 1), for two or more orders.
--   trailing_12m_revenue_try, loyalty_tier, r/f/m_score, rfm_segment: customer_segments;
--     customers without a completed order are 'Prospects'.
--   p_alive, expected_purchases_12m, expected_spend_try, predicted_clv_12m: the value models
--     (customer_value), null for customers who never bought or when a fit did not converge.
--   churn_risk = 1 - p_alive, banded; an open complaint past the promise or a detractor latest
--     NPS answer raises the band by one, and every reason is listed in churn_risk_reasons.
SET VARIABLE data_as_of = (SELECT data_as_of FROM dataset_info);

CREATE OR REPLACE TABLE customer_summary AS
WITH bought AS (
    SELECT customer_id,
           count(*) FILTER (WHERE status = 'completed') AS orders,
           coalesce(sum(net_amount_try) FILTER (WHERE status = 'completed'), 0) AS net_revenue_try,
           count(*) FILTER (WHERE status = 'returned') AS returned_orders,
           count(*) FILTER (WHERE status = 'cancelled') AS cancelled_orders,
           min(ordered_at) FILTER (WHERE status = 'completed') AS first_purchase_at,
           max(ordered_at) FILTER (WHERE status = 'completed') AS last_purchase_at
    FROM purchases GROUP BY customer_id
), contacted AS (
    SELECT customer_id, count(*) AS contacts, max(started_at) AS last_contact_at,
           arg_max(channel, started_at) AS last_contact_channel
    FROM interactions GROUP BY customer_id
), complained AS (
    SELECT customer_id, count(*) AS complaints,
           count(*) FILTER (WHERE status <> 'resolved') AS open_complaints,
           min(opened_at) FILTER (WHERE status <> 'resolved') AS oldest_open_complaint_at,
           count(*) FILTER (WHERE status <> 'resolved' AND coalesce(first_response_at, getvariable('data_as_of'))
                                  > opened_at + INTERVAL {response_promise_hours} HOUR) AS open_complaints_past_promise
    FROM complaints GROUP BY customer_id
), answered AS (
    SELECT customer_id, arg_max(nps_score, responded_at) AS last_nps_score,
           max(responded_at) AS last_nps_at
    FROM survey_responses GROUP BY customer_id
), signals AS (
    SELECT customer_id,
           list_filter([
               CASE WHEN m.open_complaints_past_promise > 0
                    THEN 'an open complaint past the {response_promise_hours}-hour promise' END,
               CASE WHEN a.last_nps_score <= 6 THEN 'latest NPS answer ' || a.last_nps_score || '/10 (detractor)' END
           ], lambda reason: reason IS NOT NULL) AS service_reasons
    FROM customers
    LEFT JOIN complained m USING (customer_id)
    LEFT JOIN answered a USING (customer_id)
)
SELECT
    c.customer_id, c.full_name, c.name_key, c.email, c.phone, c.city, c.birth_date,
    c.signup_date, c.preferred_channel, c.language,
    mc.consent_email, c.consent_email_at, mc.consent_sms, c.consent_sms_at, mc.consent_phone,
    c.consent_phone_at, mc.iys_refused, c.do_not_contact, c.do_not_contact_at,
    coalesce(b.orders, 0) AS orders,
    coalesce(b.net_revenue_try, 0) AS net_revenue_try,
    coalesce(b.returned_orders, 0) AS returned_orders,
    coalesce(b.cancelled_orders, 0) AS cancelled_orders,
    CASE WHEN b.orders > 0 THEN round(b.net_revenue_try / b.orders, 2) END AS average_order_value_try,
    b.first_purchase_at, b.last_purchase_at,
    coalesce(k.contacts, 0) AS contacts, k.last_contact_at, k.last_contact_channel,
    coalesce(m.complaints, 0) AS complaints,
    coalesce(m.open_complaints, 0) AS open_complaints,
    m.oldest_open_complaint_at,
    date_diff('hour', m.oldest_open_complaint_at, (SELECT data_as_of FROM dataset_info))
        AS oldest_open_complaint_age_hours,
    a.last_nps_score, a.last_nps_at,
    CASE WHEN b.orders > 0 THEN 1 - percent_rank() OVER (ORDER BY coalesce(b.net_revenue_try, 0)) END
        AS value_top_share,
    CASE WHEN b.orders > 1 THEN date_diff('hour', b.first_purchase_at, b.last_purchase_at) / 24.0 / (b.orders - 1) END
        AS usual_days_between_orders,
    date_diff('day', c.signup_date, getvariable('data_as_of')::DATE) AS tenure_days,
    coalesce(r.trailing_12m_revenue_try, 0) AS trailing_12m_revenue_try, r.loyalty_tier,
    v.p_alive, v.expected_purchases_12m, v.expected_spend_try, v.predicted_clv_12m,
    r.r_score, r.f_score, r.m_score, coalesce(r.rfm_segment, {prospects_segment}) AS rfm_segment,
    1 - v.p_alive AS churn_risk,
    CASE WHEN v.p_alive IS NOT NULL THEN {churn_bands}[least(
        list_position({churn_bands}, {churn_band_of_risk}) + (len(g.service_reasons) > 0)::INTEGER,
        len({churn_bands}))] END AS churn_risk_band,
    CASE WHEN v.p_alive IS NOT NULL THEN list_concat(
        CASE WHEN v.p_alive <= 0.7 THEN [round(100 * (1 - v.p_alive))::INTEGER || '% chance they have stopped buying (purchase model)']
             ELSE [] END,
        g.service_reasons) END AS churn_risk_reasons
FROM customers c
JOIN marketing_consent mc USING (customer_id)
LEFT JOIN bought b USING (customer_id)
LEFT JOIN contacted k USING (customer_id)
LEFT JOIN complained m USING (customer_id)
LEFT JOIN answered a USING (customer_id)
LEFT JOIN signals g USING (customer_id)
LEFT JOIN customer_value v USING (customer_id)
LEFT JOIN customer_segments r USING (customer_id)
ORDER BY c.customer_id;

