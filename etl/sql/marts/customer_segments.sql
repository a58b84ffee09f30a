-- Loyalty segments per buyer, as of data_as_of: RFM scores and the segment of their
-- (R, F) cell (rfm_scores, value_inputs.sql), and the loyalty tier of their trailing 12-month
-- spend (thresholds in crm360/config.py). customer_summary carries these columns; customers
-- who never completed an order are not here (they are 'Prospects' there).
SET VARIABLE data_as_of = (SELECT data_as_of FROM dataset_info);

CREATE OR REPLACE TABLE customer_segments AS
WITH last_year AS (
    SELECT customer_id, sum(net_amount_try) AS trailing_12m_revenue_try
    FROM purchases
    WHERE status = 'completed' AND ordered_at > getvariable('data_as_of') - INTERVAL 365 DAY
      AND ordered_at <= getvariable('data_as_of')
    GROUP BY customer_id
)
SELECT r.customer_id, r.r_score, r.f_score, r.m_score, r.rfm_segment,
       coalesce(t.trailing_12m_revenue_try, 0) AS trailing_12m_revenue_try,
       {loyalty_tier_of_trailing_spend} AS loyalty_tier
FROM rfm_scores(getvariable('data_as_of')) r
LEFT JOIN last_year t USING (customer_id)
ORDER BY r.customer_id;
