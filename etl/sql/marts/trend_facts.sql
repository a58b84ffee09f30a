-- The trends page's tables. Every filter the page offers (city, RFM segment, loyalty tier, as of
-- this load, and the contact channel) is a column here, so a year of any view is a scan of a
-- narrow, day-sorted table, never a join of the fact tables with the customers.
--   trend_orders:     one row per customer and day with completed orders (distinct-customer
--                     KPIs need the customer: active, new, lost, retention, repeat purchases).
--   trend_contacts:   interactions per day, channel and customer group, summed.
--   trend_agents:     interactions per day, agent and channel, summed (the team table).
--   trend_complaints: one row per complaint, for exact medians and distributions of times.
--   trend_surveys:    NPS answers per day and customer group, summed.
-- Customers without a tier (no completed order in the trailing 12 months) are in {no_tier}.

CREATE OR REPLACE TEMP TABLE trend_customer_groups AS
SELECT customer_id, city, rfm_segment, coalesce(loyalty_tier, {no_tier}) AS loyalty_tier,
       first_purchase_at::DATE AS first_order_day
FROM customer_summary;

-- previous_order_day / next_order_day: the customer's order days before and after this one, so
-- distinct-customer counts over a range become row counts: a customer bought in [a, b] once per
-- row with day in [a, b] and next_order_day after b (or none).
CREATE OR REPLACE TABLE trend_orders AS
WITH days AS (
    SELECT customer_id, ordered_at::DATE AS day, count(*)::INTEGER AS orders,
           sum(net_amount_try)::DOUBLE AS net_revenue_try
    FROM purchases WHERE status = 'completed'
    GROUP BY ALL)
SELECT d.day, d.customer_id, d.orders, d.net_revenue_try,
       lag(d.day) OVER by_customer AS previous_order_day, lead(d.day) OVER by_customer AS next_order_day,
       g.first_order_day, g.city, g.rfm_segment, g.loyalty_tier
FROM days d JOIN trend_customer_groups g USING (customer_id)
WINDOW by_customer AS (PARTITION BY d.customer_id ORDER BY d.day)
ORDER BY d.day, d.customer_id;

CREATE OR REPLACE TABLE trend_contacts AS
SELECT i.started_at::DATE AS day, i.channel, g.city, g.rfm_segment, g.loyalty_tier,
       count(*)::INTEGER AS contacts,
       count(*) FILTER (WHERE i.direction = 'inbound')::INTEGER AS inbound_contacts,
       count(i.resolved_on_first_contact) FILTER (WHERE i.direction = 'inbound')::INTEGER AS inbound_with_outcome,
       count(*) FILTER (WHERE i.direction = 'inbound' AND i.resolved_on_first_contact)::INTEGER
           AS resolved_first_contact,
       count(i.csat)::INTEGER AS csat_responses,
       count(*) FILTER (WHERE i.csat >= 4)::INTEGER AS csat_satisfied
FROM interactions i JOIN trend_customer_groups g USING (customer_id)
GROUP BY ALL
ORDER BY day;

CREATE OR REPLACE TABLE trend_agents AS
SELECT i.started_at::DATE AS day, i.agent_id, coalesce(a.team, 'unknown') AS team, i.channel,
       count(*)::INTEGER AS contacts,
       count(i.resolved_on_first_contact) FILTER (WHERE i.direction = 'inbound')::INTEGER AS inbound_with_outcome,
       count(*) FILTER (WHERE i.direction = 'inbound' AND i.resolved_on_first_contact)::INTEGER
           AS resolved_first_contact,
       count(i.csat)::INTEGER AS csat_responses,
       count(*) FILTER (WHERE i.csat >= 4)::INTEGER AS csat_satisfied,
       count(i.duration_seconds)::INTEGER AS timed_contacts,
       coalesce(sum(i.duration_seconds), 0)::BIGINT AS handle_seconds
FROM interactions i LEFT JOIN agents a USING (agent_id)
WHERE i.agent_id IS NOT NULL
GROUP BY ALL
ORDER BY day;

CREATE OR REPLACE TABLE trend_complaints AS
SELECT c.complaint_id, c.opened_at::DATE AS day, c.resolved_at::DATE AS resolved_day,
       c.category, c.channel, c.severity, g.city, g.rfm_segment, g.loyalty_tier,
       date_diff('second', c.opened_at, c.first_response_at) / 3600.0 AS first_response_hours,
       date_diff('second', c.opened_at, c.resolved_at) / 3600.0 AS resolution_hours,
       coalesce(c.first_response_at <= c.opened_at + INTERVAL {response_promise_hours} HOUR, false)
           AS answered_within_promise,
       c.first_response_at IS NOT NULL
           OR c.opened_at <= (SELECT data_as_of FROM dataset_info) - INTERVAL {response_promise_hours} HOUR AS due
FROM complaints c JOIN trend_customer_groups g USING (customer_id)
ORDER BY day;

CREATE OR REPLACE TABLE trend_surveys AS
SELECT s.responded_at::DATE AS day, g.city, g.rfm_segment, g.loyalty_tier,
       count(s.nps_score)::INTEGER AS nps_responses,
       count(*) FILTER (WHERE s.nps_score >= 9)::INTEGER AS nps_promoters,
       count(*) FILTER (WHERE s.nps_score <= 6)::INTEGER AS nps_detractors
FROM survey_responses s JOIN trend_customer_groups g USING (customer_id)
GROUP BY ALL
ORDER BY day;

DROP TABLE trend_customer_groups;
