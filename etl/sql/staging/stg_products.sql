-- The shop's catalogue (JSON Lines); list prices in TRY.
SELECT
    TRY_CAST(r.product_id AS BIGINT) AS product_id,
    nullif(trim(r.name), '') AS name,
    nullif(trim(r.category), '') AS category,
    CASE WHEN TRY_CAST(r.list_price_try AS DECIMAL(14, 2)) >= 0
         THEN TRY_CAST(r.list_price_try AS DECIMAL(14, 2)) END AS list_price_try,
    list_filter([
        problem(r._malformed, 'record', 'not valid JSON', NULL, 'row_rejected'),
        problem(NOT r._malformed AND TRY_CAST(r.product_id AS BIGINT) IS NULL, 'product_id', 'missing or not a whole number', r.product_id, 'row_rejected'),
        problem(NOT r._malformed AND nullif(trim(r.name), '') IS NULL, 'name', 'missing', r.name, 'row_rejected')
    ], lambda p: p IS NOT NULL) AS _problems
FROM {raw} r
