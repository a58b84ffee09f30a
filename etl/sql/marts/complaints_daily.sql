-- Complaints per day, category and channel: the weak-point charts ("out of stock" rising,
-- late deliveries in November) read this instead of scanning every complaint.
CREATE OR REPLACE TABLE complaints_daily AS
SELECT
    opened_at::DATE AS day, category, channel,
    count(*) AS complaints_opened,
    count(*) FILTER (WHERE status <> 'resolved') AS still_open,
    count(*) FILTER (WHERE first_response_at <= opened_at + INTERVAL {response_promise_hours} HOUR) AS answered_within_promise
FROM complaints
GROUP BY ALL
ORDER BY day, category, channel;
