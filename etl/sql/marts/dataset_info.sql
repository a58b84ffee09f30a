-- One row describing the loaded data. `data_as_of` is the newest event in it (capped at the
-- load time): pages measure ages and 24-hour clocks from here in the default "data" clock,
-- so a demo seeded last week still reads as it did on the day it was made.
CREATE OR REPLACE TABLE dataset_info AS
SELECT
    getvariable('run_id') AS run_id,
    getvariable('load_time') AS loaded_at,
    least(getvariable('load_time'), greatest(
        (SELECT max(started_at) FROM interactions),
        (SELECT max(ordered_at) FROM purchases),
        (SELECT max(greatest(opened_at, coalesce(first_response_at, opened_at),
                             coalesce(resolved_at, opened_at))) FROM complaints),
        (SELECT max(responded_at) FROM survey_responses))) AS data_as_of,
    (SELECT count(*) FROM customers) AS customers,
    (SELECT count(*) FROM interactions) AS interactions,
    (SELECT count(*) FROM purchases) AS purchases,
    (SELECT count(*) FROM complaints) AS complaints,
    (SELECT count(*) FROM survey_responses) AS survey_responses;
