-- Complaints agents opened at the desk (origin 'desk', every field) and what they changed on loaded
-- complaints (origin 'loaded': answer, resolution, refund), from crm360/desk.py.
WITH typed AS (
    SELECT
        r._malformed,
        r.complaint_id AS raw_complaint_id, r.customer_id AS raw_customer_id, r.opened_at AS raw_opened_at,
        r.category AS raw_category,
        TRY_CAST(r.complaint_id AS BIGINT) AS complaint_id,
        lower(trim(r.origin)) AS origin,
        TRY_CAST(r.customer_id AS BIGINT) AS customer_id,
        parse_moment(r.opened_at) AS opened_at,
        lower(trim(r.channel)) AS channel,
        lower(trim(r.category)) AS category,
        CASE WHEN lower(trim(r.severity)) IN {severities} THEN lower(trim(r.severity)) END AS severity,
        TRY_CAST(r.product_id AS BIGINT) AS product_id,
        parse_moment(r.first_response_at) AS first_response_at,
        parse_moment(r.resolved_at) AS resolved_at,
        nullif(trim(r.resolution), '') AS resolution,
        TRY_CAST(r.refund_try AS DECIMAL(18, 2)) AS refund_try,
        r.description, r.agent
    FROM {raw} r
)
SELECT
    complaint_id, origin, customer_id, opened_at, channel, category, severity,
    CASE WHEN product_id IN (SELECT product_id FROM products) THEN product_id END AS product_id,
    first_response_at, resolved_at, resolution, refund_try, description, agent,
    list_filter([
        problem(_malformed, 'record', 'not a valid record', NULL, 'row_rejected'),
        problem(complaint_id IS NULL, 'complaint_id', 'missing or not a whole number', raw_complaint_id, 'row_rejected'),
        problem(origin IS NULL OR origin NOT IN ('desk', 'loaded'), 'origin', 'neither desk nor loaded', origin,
                'row_rejected'),
        customer_problem(customer_id, raw_customer_id),
        problem(origin = 'desk' AND opened_at IS NULL, 'opened_at', 'missing or not a timestamp', raw_opened_at,
                'row_rejected'),
        problem(origin = 'desk' AND (category IS NULL OR category NOT IN {complaint_categories}), 'category',
                'unknown complaint category', raw_category, 'row_rejected'),
        problem(too_long(description), 'description', 'longer than {max_text} characters', description, 'row_rejected')
    ], lambda p: p IS NOT NULL) AS _problems
FROM typed
