-- NPS answers from the survey tool (JSON Lines). The score is the fact itself, so an answer
-- outside 0-10 is rejected rather than cleared.
WITH typed AS (
    SELECT
        r._malformed,
        r.survey_id AS raw_survey_id, r.customer_id AS raw_customer_id,
        r.responded_at AS raw_responded_at, r.nps_score AS raw_nps_score,
        TRY_CAST(r.survey_id AS BIGINT) AS survey_id,
        TRY_CAST(r.customer_id AS BIGINT) AS customer_id,
        parse_moment(trim(r.responded_at)) AS responded_at,
        lower(trim(r.touchpoint)) AS touchpoint,
        TRY_CAST(r.nps_score AS TINYINT) AS nps_score,
        nullif(trim(r.comment), '') AS comment
    FROM {raw} r
)
SELECT
    survey_id, customer_id, responded_at, touchpoint, nps_score, comment,
    list_filter([
        problem(_malformed, 'record', 'not valid JSON', NULL, 'row_rejected'),
        problem(NOT _malformed AND survey_id IS NULL, 'survey_id', 'missing or not a whole number', raw_survey_id, 'row_rejected'),
        CASE WHEN NOT _malformed THEN customer_problem(customer_id, raw_customer_id) END,
        CASE WHEN NOT _malformed THEN event_time_problem(responded_at, 'responded_at', 'missing or not a timestamp', raw_responded_at) END,
        problem(NOT _malformed AND (nps_score IS NULL OR nps_score NOT BETWEEN 0 AND 10), 'nps_score', 'not a score from 0 to 10', raw_nps_score, 'row_rejected'),
        problem(too_long(comment), 'comment', 'longer than {max_text} characters', comment, 'row_rejected')
    ], lambda p: p IS NOT NULL) AS _problems
FROM typed
