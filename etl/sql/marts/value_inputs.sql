-- What the value models and the segments read, as macros stored in the database so that the
-- ETL (at data_as_of), the backtest and the segment page (at any date) compute them one way.

-- A customer's purchase history up to a cutoff day, as the BG/NBD and Gamma-Gamma models see it:
-- completed orders only, all orders of one day are one transaction, times in days from the
-- first purchase day. repeat_value_avg_try: the average value of the repeat days (the first
-- day's spend is not evidence of later spend).
CREATE OR REPLACE MACRO purchase_histories(cutoff) AS TABLE
WITH days AS (
    SELECT customer_id, ordered_at::DATE AS day, cutoff::DATE AS cutoff_day, sum(net_amount_try) AS value
    FROM purchases
    WHERE status = 'completed' AND ordered_at::DATE <= cutoff::DATE
    GROUP BY ALL
)
SELECT customer_id,
       count(*) - 1 AS repeat_days,
       date_diff('day', min(day), max(day)) AS recency_days,
       date_diff('day', min(day), max(cutoff_day)) AS age_days,
       CASE WHEN count(*) > 1 THEN (sum(value) - arg_min(value, day)) / (count(*) - 1) END
           AS repeat_value_avg_try
FROM days
GROUP BY customer_id;

-- Every (R, F) cell and its segment (crm360/segments.py, where the rules are written out).
CREATE OR REPLACE TABLE rfm_segment_map (r_score INTEGER, f_score INTEGER, segment VARCHAR);
INSERT INTO rfm_segment_map VALUES {rfm_segment_map};

-- RFM as of a moment, over customers with a completed order by then: recency, frequency and
-- monetary scores 1-5 by quintiles (ntile over the ordered customers, so ties are split by
-- customer number and every score holds a fifth), 5 = most recent / most orders / most spend.
-- The segment needs only R and F: rfm_segments is that part alone (a third of the work), for
-- the segment history and segment movement; rfm_scores adds M.
CREATE OR REPLACE MACRO rfm_bought(as_of) AS TABLE
SELECT customer_id, max(ordered_at) AS last_purchase_at, count(*) AS orders, sum(net_amount_try) AS revenue
FROM purchases
WHERE status = 'completed' AND ordered_at <= as_of
GROUP BY customer_id;

CREATE OR REPLACE MACRO rfm_segments(as_of) AS TABLE
WITH scored AS (
    SELECT customer_id,
           ntile(5) OVER (ORDER BY last_purchase_at, customer_id) AS r_score,
           ntile(5) OVER (ORDER BY orders, customer_id) AS f_score
    FROM rfm_bought(as_of)
)
SELECT s.customer_id, s.r_score, s.f_score, m.segment AS rfm_segment
FROM scored s JOIN rfm_segment_map m USING (r_score, f_score);

CREATE OR REPLACE MACRO rfm_scores(as_of) AS TABLE
SELECT b.customer_id, b.last_purchase_at, b.orders, b.revenue, s.r_score, s.f_score,
       ntile(5) OVER (ORDER BY b.revenue, b.customer_id) AS m_score, s.rfm_segment
FROM rfm_bought(as_of) b JOIN rfm_segments(as_of) s USING (customer_id);
