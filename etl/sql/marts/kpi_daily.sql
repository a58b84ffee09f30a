-- One row per calendar day, from the first event to data_as_of, with the counts and sums the
-- trend charts add up (ratios are computed after summing, never averaged across days).
--   complaints_due: opened at least {response_promise_hours} h before data_as_of, or answered;
--   the 24-hour share is answered_within_promise / complaints_due, so a complaint opened an
--   hour ago does not count as late.
CREATE OR REPLACE TABLE kpi_daily AS
WITH bounds AS (
    SELECT least((SELECT min(ordered_at) FROM purchases), (SELECT min(started_at) FROM interactions))::DATE AS first_day,
           data_as_of::DATE AS last_day, data_as_of
    FROM dataset_info
), days AS (
    SELECT unnest(range(first_day, last_day + INTERVAL 1 DAY, INTERVAL 1 DAY))::DATE AS day FROM bounds
), orders AS (
    SELECT ordered_at::DATE AS day,
           count(*) FILTER (WHERE status = 'completed') AS orders,
           coalesce(sum(net_amount_try) FILTER (WHERE status = 'completed'), 0) AS net_revenue_try,
           count(*) FILTER (WHERE status = 'returned') AS returned_orders,
           count(*) FILTER (WHERE status = 'cancelled') AS cancelled_orders
    FROM purchases GROUP BY 1
), first_orders AS (
    SELECT first_purchase_at::DATE AS day, count(*) AS new_customers
    FROM customer_summary WHERE first_purchase_at IS NOT NULL GROUP BY 1
), signups AS (
    SELECT signup_date AS day, count(*) AS signups FROM customers GROUP BY 1
), contacts AS (
    SELECT started_at::DATE AS day,
           count(*) AS contacts,
           count(*) FILTER (WHERE direction = 'inbound') AS inbound_contacts,
           count(*) FILTER (WHERE direction = 'inbound' AND resolved_on_first_contact IS NOT NULL) AS inbound_with_outcome,
           count(*) FILTER (WHERE direction = 'inbound' AND resolved_on_first_contact) AS resolved_first_contact,
           count(csat) AS csat_responses,
           count(*) FILTER (WHERE csat >= 4) AS csat_satisfied
    FROM interactions GROUP BY 1
), opened AS (
    SELECT opened_at::DATE AS day,
           count(*) AS complaints_opened,
           count(*) FILTER (WHERE first_response_at IS NOT NULL
                            OR opened_at <= (SELECT data_as_of FROM bounds) - INTERVAL {response_promise_hours} HOUR) AS complaints_due,
           count(*) FILTER (WHERE first_response_at <= opened_at + INTERVAL {response_promise_hours} HOUR) AS answered_within_promise,
           count(first_response_at) AS complaints_answered,
           coalesce(sum(date_diff('second', opened_at, first_response_at)) / 3600.0, 0) AS first_response_hours_sum
    FROM complaints GROUP BY 1
), resolved AS (
    SELECT resolved_at::DATE AS day, count(*) AS complaints_resolved
    FROM complaints WHERE resolved_at IS NOT NULL GROUP BY 1
), answers AS (
    SELECT responded_at::DATE AS day, count(*) AS nps_responses,
           count(*) FILTER (WHERE nps_score >= 9) AS nps_promoters,
           count(*) FILTER (WHERE nps_score <= 6) AS nps_detractors
    FROM survey_responses GROUP BY 1
)
SELECT
    d.day,
    coalesce(o.orders, 0) AS orders,
    coalesce(o.net_revenue_try, 0) AS net_revenue_try,
    coalesce(o.returned_orders, 0) AS returned_orders,
    coalesce(o.cancelled_orders, 0) AS cancelled_orders,
    coalesce(f.new_customers, 0) AS new_customers,
    coalesce(s.signups, 0) AS signups,
    coalesce(c.contacts, 0) AS contacts,
    coalesce(c.inbound_contacts, 0) AS inbound_contacts,
    coalesce(c.inbound_with_outcome, 0) AS inbound_with_outcome,
    coalesce(c.resolved_first_contact, 0) AS resolved_first_contact,
    coalesce(c.csat_responses, 0) AS csat_responses,
    coalesce(c.csat_satisfied, 0) AS csat_satisfied,
    coalesce(op.complaints_opened, 0) AS complaints_opened,
    coalesce(op.complaints_due, 0) AS complaints_due,
    coalesce(op.answered_within_promise, 0) AS answered_within_promise,
    coalesce(op.complaints_answered, 0) AS complaints_answered,
    coalesce(op.first_response_hours_sum, 0) AS first_response_hours_sum,
    coalesce(r.complaints_resolved, 0) AS complaints_resolved,
    coalesce(a.nps_responses, 0) AS nps_responses,
    coalesce(a.nps_promoters, 0) AS nps_promoters,
    coalesce(a.nps_detractors, 0) AS nps_detractors
FROM days d
LEFT JOIN orders o USING (day)
LEFT JOIN first_orders f USING (day)
LEFT JOIN signups s USING (day)
LEFT JOIN contacts c USING (day)
LEFT JOIN opened op USING (day)
LEFT JOIN resolved r USING (day)
LEFT JOIN answers a USING (day)
ORDER BY d.day;
