-- Agents and their teams, from the CRM; the per-agent reports of later issues read them.
SELECT
    nullif(trim(r.agent_id), '') AS agent_id,
    nullif(trim(r.full_name), '') AS full_name,
    nullif(trim(r.team), '') AS team,
    list_filter([
        problem(r._malformed, 'record', 'not a valid record', NULL, 'row_rejected'),
        problem(nullif(trim(r.agent_id), '') IS NULL, 'agent_id', 'missing', r.agent_id, 'row_rejected')
    ], lambda p: p IS NOT NULL) AS _problems
FROM {raw} r
