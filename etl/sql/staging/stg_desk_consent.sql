-- Consent changes and do-not-contact requests agents recorded at the desk (source "agent call").
WITH typed AS (
    SELECT
        r._malformed,
        r.change_id AS raw_change_id, r.customer_id AS raw_customer_id, r.recorded_at AS raw_recorded_at,
        r.channel AS raw_channel,
        TRY_CAST(r.change_id AS BIGINT) AS change_id,
        TRY_CAST(r.customer_id AS BIGINT) AS customer_id,
        nullif(lower(trim(r.channel)), '') AS channel,
        parse_bool(r.given) AS given,
        coalesce(parse_bool(r.do_not_contact), false) AS do_not_contact,
        parse_moment(r.recorded_at) AS recorded_at,
        r.agent
    FROM {raw} r
)
SELECT
    change_id, customer_id, channel, given, do_not_contact, recorded_at, agent,
    list_filter([
        problem(_malformed, 'record', 'not a valid record', NULL, 'row_rejected'),
        problem(change_id IS NULL, 'change_id', 'missing or not a whole number', raw_change_id, 'row_rejected'),
        customer_problem(customer_id, raw_customer_id),
        event_time_problem(recorded_at, 'recorded_at', 'missing or not a timestamp', raw_recorded_at),
        problem(channel IS NOT NULL AND channel NOT IN ('email', 'sms', 'phone'), 'channel',
                'not a consent channel', raw_channel, 'row_rejected')
    ], lambda p: p IS NOT NULL) AS _problems
FROM typed
