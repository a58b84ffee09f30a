-- Complaints from the Turkish Excel export: dd.mm.yyyy dates, decimal-comma amounts.
-- A complaint must name a known customer, an opening moment, a channel and a known category,
-- since complaint counts by cause are what managers read; an answer or resolution dated before
-- the complaint was opened cannot be true and is cleared.
WITH typed AS (
    SELECT
        r._malformed,
        r.complaint_id AS raw_complaint_id, r.customer_id AS raw_customer_id,
        r.opened_at AS raw_opened_at, r.channel AS raw_channel, r.category AS raw_category,
        r.severity AS raw_severity, r.product_id AS raw_product_id,
        r.first_response_at AS raw_first_response_at, r.resolved_at AS raw_resolved_at,
        r.status AS raw_status, r.satisfaction_after AS raw_satisfaction,
        r.refund_amount_try AS raw_refund,
        TRY_CAST(r.complaint_id AS BIGINT) AS complaint_id,
        TRY_CAST(r.customer_id AS BIGINT) AS customer_id,
        parse_moment(r.opened_at) AS opened_at,
        lower(trim(r.channel)) AS channel,
        lower(trim(r.category)) AS category,
        lower(trim(r.severity)) AS severity,
        TRY_CAST(r.product_id AS BIGINT) AS product_id,
        parse_moment(r.first_response_at) AS first_response_at,
        parse_moment(r.resolved_at) AS resolved_at,
        lower(trim(r.status)) AS status,
        nullif(trim(r.resolution), '') AS resolution,
        TRY_CAST(r.satisfaction_after AS TINYINT) AS satisfaction_after,
        parse_decimal_tr(r.refund_amount_try) AS refund_amount_try,
        r.description
    FROM {raw} r
)
SELECT
    complaint_id, customer_id, opened_at, channel, category,
    CASE WHEN severity IN {severities} THEN severity END AS severity,
    CASE WHEN product_id IN (SELECT product_id FROM products) THEN product_id END AS product_id,
    CASE WHEN first_response_at >= opened_at THEN first_response_at END AS first_response_at,
    CASE WHEN resolved_at >= opened_at THEN resolved_at END AS resolved_at,
    status, resolution,
    CASE WHEN satisfaction_after BETWEEN 1 AND 5 THEN satisfaction_after END AS satisfaction_after,
    CASE WHEN refund_amount_try >= 0 THEN refund_amount_try END AS refund_amount_try,
    description,
    list_filter([
        problem(_malformed, 'record', 'not a valid record', NULL, 'row_rejected'),
        problem(complaint_id IS NULL, 'complaint_id', 'missing or not a whole number', raw_complaint_id, 'row_rejected'),
        customer_problem(customer_id, raw_customer_id),
        event_time_problem(opened_at, 'opened_at', 'missing or not a date', raw_opened_at),
        problem(channel IS NULL OR channel NOT IN {channels}, 'channel', 'unknown channel', raw_channel, 'row_rejected'),
        problem(category IS NULL OR category NOT IN {complaint_categories}, 'category', 'unknown complaint category', raw_category, 'row_rejected'),
        problem(status IS NULL OR status NOT IN {complaint_statuses}, 'status', 'unknown status', raw_status, 'row_rejected'),
        problem(too_long(description), 'description', 'longer than {max_text} characters', description, 'row_rejected'),
        problem(nullif(trim(raw_severity), '') IS NOT NULL AND severity NOT IN {severities}, 'severity', 'unknown severity', raw_severity, 'value_cleared'),
        problem(nullif(trim(raw_product_id), '') IS NOT NULL AND (product_id IS NULL OR product_id NOT IN (SELECT product_id FROM products)),
                'product_id', 'unknown product', raw_product_id, 'value_cleared'),
        problem(nullif(trim(raw_first_response_at), '') IS NOT NULL AND (first_response_at IS NULL OR first_response_at < opened_at),
                'first_response_at', 'not a date, or before the complaint was opened', raw_first_response_at, 'value_cleared'),
        problem(nullif(trim(raw_resolved_at), '') IS NOT NULL AND (resolved_at IS NULL OR resolved_at < opened_at),
                'resolved_at', 'not a date, or before the complaint was opened', raw_resolved_at, 'value_cleared'),
        problem(nullif(trim(raw_satisfaction), '') IS NOT NULL AND (satisfaction_after IS NULL OR satisfaction_after NOT BETWEEN 1 AND 5),
                'satisfaction_after', 'not a score from 1 to 5', raw_satisfaction, 'value_cleared'),
        problem(nullif(trim(raw_refund), '') IS NOT NULL AND (refund_amount_try IS NULL OR refund_amount_try < 0),
                'refund_amount_try', 'not an amount', raw_refund, 'value_cleared')
    ], lambda p: p IS NOT NULL) AS _problems
FROM typed
