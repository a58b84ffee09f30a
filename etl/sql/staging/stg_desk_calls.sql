-- Calls agents logged at the desk (crm360/desk.py). The desk checked them when they were saved; a
-- row is still rejected here if its customer is not in this load (a customer the CRM removed).
WITH typed AS (
    SELECT
        r._malformed,
        r.call_id AS raw_call_id, r.customer_id AS raw_customer_id, r.called_at AS raw_called_at,
        r.channel AS raw_channel,
        TRY_CAST(r.call_id AS BIGINT) AS call_id,
        TRY_CAST(r.customer_id AS BIGINT) AS customer_id,
        parse_moment(r.called_at) AS called_at,
        clean_code(r.channel, {channel_list}) AS channel,
        nullif(trim(r.reason), '') AS reason,
        nullif(trim(r.outcome), '') AS outcome,
        r.note, r.agent
    FROM {raw} r
)
SELECT
    call_id, customer_id, called_at, channel, reason, outcome, note, agent,
    list_filter([
        problem(_malformed, 'record', 'not a valid record', NULL, 'row_rejected'),
        problem(call_id IS NULL, 'call_id', 'missing or not a whole number', raw_call_id, 'row_rejected'),
        customer_problem(customer_id, raw_customer_id),
        event_time_problem(called_at, 'called_at', 'missing or not a timestamp', raw_called_at),
        problem(channel IS NULL OR channel NOT IN {channels}, 'channel', 'unknown channel', raw_channel, 'row_rejected'),
        problem(too_long(note), 'note', 'longer than {max_text} characters', note, 'row_rejected')
    ], lambda p: p IS NOT NULL) AS _problems
FROM typed
