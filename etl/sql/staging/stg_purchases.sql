-- Orders from the web shop (Parquet, already typed). Net amount is what the customer paid
-- after discounts, in TRY; returns and cancellations stay as rows with their status.
WITH typed AS (
    SELECT
        r._malformed,
        r.order_id AS raw_order_id, r.customer_id AS raw_customer_id, r.ordered_at AS raw_ordered_at,
        r.product_id AS raw_product_id, r.quantity AS raw_quantity,
        r.net_amount_try AS raw_net_amount, r.sales_channel AS raw_sales_channel, r.status AS raw_status,
        TRY_CAST(r.order_id AS BIGINT) AS order_id,
        TRY_CAST(r.customer_id AS BIGINT) AS customer_id,
        parse_moment(r.ordered_at) AS ordered_at,
        TRY_CAST(r.product_id AS BIGINT) AS product_id,
        TRY_CAST(r.product_id AS BIGINT) IN (SELECT product_id FROM products) AS known_product,
        nullif(trim(CAST(r.category AS VARCHAR)), '') AS category,
        TRY_CAST(r.quantity AS INTEGER) AS quantity,
        TRY_CAST(r.net_amount_try AS DECIMAL(14, 2)) AS net_amount_try,
        lower(trim(CAST(r.sales_channel AS VARCHAR))) AS sales_channel,
        lower(trim(CAST(r.status AS VARCHAR))) AS status,
        nullif(trim(CAST(r.line_item AS VARCHAR)), '') AS line_item
    FROM {raw} r
)
SELECT
    order_id, customer_id, ordered_at,
    CASE WHEN known_product THEN product_id END AS product_id,
    category,
    CASE WHEN quantity >= 1 THEN quantity END AS quantity,
    net_amount_try,
    CASE WHEN sales_channel IN {sales_channels} THEN sales_channel END AS sales_channel,
    status,
    line_item,
    list_filter([
        problem(_malformed, 'record', 'not a valid record', NULL, 'row_rejected'),
        problem(order_id IS NULL, 'order_id', 'missing or not a whole number', raw_order_id, 'row_rejected'),
        customer_problem(customer_id, raw_customer_id),
        event_time_problem(ordered_at, 'ordered_at', 'missing or not a timestamp', raw_ordered_at),
        problem(net_amount_try IS NULL OR net_amount_try < 0, 'net_amount_try', 'missing or negative amount', raw_net_amount, 'row_rejected'),
        problem(status IS NULL OR status NOT IN {purchase_statuses}, 'status', 'unknown order status', raw_status, 'row_rejected'),
        problem(raw_product_id IS NOT NULL AND NOT coalesce(known_product, false),
                'product_id', 'unknown product', raw_product_id, 'value_cleared'),
        problem(raw_quantity IS NOT NULL AND (quantity IS NULL OR quantity < 1), 'quantity', 'not a positive whole number', raw_quantity, 'value_cleared'),
        problem(raw_sales_channel IS NOT NULL AND sales_channel NOT IN {sales_channels}, 'sales_channel', 'unknown sales channel', raw_sales_channel, 'value_cleared')
    ], lambda p: p IS NOT NULL) AS _problems
FROM typed
