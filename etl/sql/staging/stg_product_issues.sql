-- Known product defects and the date a fix shipped (empty: not fixed yet). The proactive
-- "tell the customers who had this problem" case starts here.
SELECT
    TRY_CAST(r.issue_id AS BIGINT) AS issue_id,
    TRY_CAST(r.product_id AS BIGINT) AS product_id,
    nullif(trim(r.title), '') AS title,
    parse_day(r.reported_at) AS reported_at,
    parse_day(r.fix_shipped_at) AS fix_shipped_at,
    nullif(trim(r.fix_description), '') AS fix_description,
    list_filter([
        problem(r._malformed, 'record', 'not a valid record', NULL, 'row_rejected'),
        problem(TRY_CAST(r.issue_id AS BIGINT) IS NULL, 'issue_id', 'missing or not a whole number', r.issue_id, 'row_rejected'),
        problem(TRY_CAST(r.product_id AS BIGINT) NOT IN (SELECT product_id FROM products) OR TRY_CAST(r.product_id AS BIGINT) IS NULL,
                'product_id', 'unknown product', r.product_id, 'row_rejected'),
        problem(parse_day(r.reported_at) IS NULL, 'reported_at', 'missing or not a date', r.reported_at, 'row_rejected'),
        problem(nullif(trim(r.fix_shipped_at), '') IS NOT NULL AND parse_day(r.fix_shipped_at) IS NULL,
                'fix_shipped_at', 'not a date', r.fix_shipped_at, 'value_cleared')
    ], lambda p: p IS NOT NULL) AS _problems
FROM {raw} r
