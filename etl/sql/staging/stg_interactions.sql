-- Contacts from the call-centre system: every channel in one shape. A contact must name a
-- known customer, a real moment and one of the seven channels; lesser fields are cleared.
WITH typed AS (
    SELECT
        r._malformed,
        r.interaction_id AS raw_interaction_id, r.customer_id AS raw_customer_id,
        r.started_at AS raw_started_at, r.channel AS raw_channel, r.direction AS raw_direction,
        r.agent_id AS raw_agent_id, r.duration_seconds AS raw_duration_seconds,
        r.resolved_on_first_contact AS raw_resolved, r.csat AS raw_csat,
        TRY_CAST(r.interaction_id AS BIGINT) AS interaction_id,
        TRY_CAST(r.customer_id AS BIGINT) AS customer_id,
        parse_moment(r.started_at) AS started_at,
        clean_code(r.channel, {channel_list}) AS channel,
        clean_code(r.direction, ['inbound', 'outbound']) AS direction,
        nullif(trim(r.topic), '') AS topic,
        nullif(trim(r.agent_id), '') AS agent_id,
        nullif(trim(r.agent_id), '') IN (SELECT agent_id FROM agents) AS known_agent,
        TRY_CAST(r.duration_seconds AS INTEGER) AS duration_seconds,
        parse_bool(r.resolved_on_first_contact) AS resolved_on_first_contact,
        TRY_CAST(r.csat AS INTEGER) AS csat,
        r.notes
    FROM {raw} r
)
SELECT
    interaction_id, customer_id, started_at, channel,
    CASE WHEN direction IN ('inbound', 'outbound') THEN direction END AS direction,
    topic,
    CASE WHEN known_agent THEN agent_id END AS agent_id,
    CASE WHEN duration_seconds BETWEEN 0 AND 86400 THEN duration_seconds END AS duration_seconds,
    resolved_on_first_contact,
    CASE WHEN csat BETWEEN 1 AND 5 THEN csat::TINYINT END AS csat,
    notes,
    list_filter([
        problem(_malformed, 'record', 'not a valid record', NULL, 'row_rejected'),
        problem(interaction_id IS NULL, 'interaction_id', 'missing or not a whole number', raw_interaction_id, 'row_rejected'),
        customer_problem(customer_id, raw_customer_id),
        event_time_problem(started_at, 'started_at', 'missing or not a timestamp', raw_started_at),
        problem(channel IS NULL OR channel NOT IN {channels}, 'channel', 'unknown channel', raw_channel, 'row_rejected'),
        problem(too_long(notes), 'notes', 'longer than {max_text} characters', notes, 'row_rejected'),
        problem(nullif(trim(raw_direction), '') IS NOT NULL AND direction NOT IN ('inbound', 'outbound'),
                'direction', 'neither inbound nor outbound', raw_direction, 'value_cleared'),
        problem(agent_id IS NOT NULL AND NOT known_agent, 'agent_id', 'unknown agent', raw_agent_id, 'value_cleared'),
        problem(not_a_number(duration_seconds, raw_duration_seconds) OR duration_seconds NOT BETWEEN 0 AND 86400,
                'duration_seconds', 'not a duration between 0 and 86400 seconds', raw_duration_seconds, 'value_cleared'),
        problem(nullif(trim(raw_resolved), '') IS NOT NULL AND resolved_on_first_contact IS NULL,
                'resolved_on_first_contact', 'not a yes/no value', raw_resolved, 'value_cleared'),
        problem(not_a_number(csat, raw_csat) OR csat NOT BETWEEN 1 AND 5,
                'csat', 'not a score from 1 to 5', raw_csat, 'value_cleared')
    ], lambda p: p IS NOT NULL) AS _problems
FROM typed
