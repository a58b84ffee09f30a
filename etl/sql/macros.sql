-- Helpers every staging model uses. {fold_text} and {normalize_phone} are filled in from
-- crm360.textnorm so that the ETL and the search box fold text and phones the same way.

-- A problem found in a raw value: which field, why, the value as read, and what was done:
-- 'row_rejected' (the row goes to quarantine) or 'value_cleared' (the row loads, the value
-- becomes NULL, the original is kept in quarantine).
CREATE OR REPLACE TEMP MACRO problem(failed, field_name, reason, raw_value, action) AS
    CASE WHEN failed THEN {'field': field_name, 'reason': reason,
                           'value': left(CAST(raw_value AS VARCHAR), {raw_chars}),
                           'action': action} END;

CREATE OR REPLACE TEMP MACRO fold_text(x) AS {fold_text};
CREATE OR REPLACE TEMP MACRO normalize_phone(x) AS {normalize_phone};
CREATE OR REPLACE TEMP MACRO normalize_email(x) AS
    CASE WHEN regexp_matches(lower(trim(x)), '{email_pattern}') THEN lower(trim(x)) END;

-- Booleans as CRM and Excel exports write them, Turkish included.
-- The exact spellings our exports use are tested first: cleaning every value is the slow path.
CREATE OR REPLACE TEMP MACRO parse_bool(x) AS
    CASE WHEN x = 'true' THEN true WHEN x = 'false' THEN false
         WHEN lower(trim(CAST(x AS VARCHAR))) IN ('true', 't', '1', 'yes', 'y', 'evet', 'e') THEN true
         WHEN lower(trim(CAST(x AS VARCHAR))) IN ('false', 'f', '0', 'no', 'n', 'hayır', 'hayir', 'h') THEN false
    END;

-- A code as exported ('phone') passes as it is; anything else is trimmed and lower-cased.
CREATE OR REPLACE TEMP MACRO clean_code(x, known) AS
    CASE WHEN list_contains(known, x) THEN x ELSE lower(trim(x)) END;

-- Turkish Excel numbers: '1.234,56' -> 1234.56; plain '1234.56' still works.
CREATE OR REPLACE TEMP MACRO parse_decimal_tr(x) AS
    CASE WHEN trim(x) LIKE '%,%' THEN TRY_CAST(replace(replace(trim(x), '.', ''), ',', '.') AS DECIMAL(14, 2))
         ELSE TRY_CAST(trim(x) AS DECIMAL(14, 2)) END;

-- Moments and days as every staging model reads them: ISO, or dotted Turkish 'dd.mm.yyyy HH:MM'
-- (seconds and time optional). Slashed writings (dd/mm or mm/dd) are ambiguous, so the extract
-- step rewrites them to ISO per file (etl/detect.py); they never reach these macros.
-- Typed input is only cast; ISO text has a '-', dotted text none (a cheap test that spares
-- each value the formats it is not written in).
CREATE OR REPLACE TEMP MACRO parse_moment(x) AS
    CASE WHEN typeof(x) <> 'VARCHAR' THEN TRY_CAST(x AS TIMESTAMP)
         WHEN strpos(CAST(x AS VARCHAR), '-') > 0 THEN TRY_CAST(trim(CAST(x AS VARCHAR)) AS TIMESTAMP)
         ELSE coalesce(try_strptime(trim(CAST(x AS VARCHAR)), '%d.%m.%Y %H:%M'),
                       try_strptime(trim(CAST(x AS VARCHAR)), '%d.%m.%Y %H:%M:%S'),
                       try_strptime(trim(CAST(x AS VARCHAR)), '%d.%m.%Y'),
                       TRY_CAST(trim(CAST(x AS VARCHAR)) AS TIMESTAMP)) END;
CREATE OR REPLACE TEMP MACRO parse_day(x) AS
    coalesce(TRY_CAST(x AS DATE), CAST(parse_moment(x) AS DATE));

-- A number the model casts from text that was written but is not a number ("12s"): cleared or
-- rejected by its check with what was there, not silently empty. Typed input never is one.
CREATE OR REPLACE TEMP MACRO not_a_number(number, raw_value) AS
    CASE WHEN number IS NULL AND raw_value IS NOT NULL
         THEN nullif(trim(CAST(raw_value AS VARCHAR)), '') IS NOT NULL ELSE false END;

-- A timestamp no real event can have: before the business existed, or after the load.
CREATE OR REPLACE TEMP MACRO implausible_time(ts) AS
    ts < getvariable('earliest_event') OR ts > getvariable('load_time') + INTERVAL 1 DAY;

-- Bytes first (cheap, and never fewer than characters), characters only for long values.
-- A fact row must name a customer we know (or a number merged into one, etl/identity.py):
-- missing and unknown are one check with two reasons.
-- (The parameter is not called customer_id: a macro would substitute it inside the subquery.)
CREATE OR REPLACE TEMP MACRO customer_problem(named_customer, raw_value) AS
    problem(named_customer IS NULL
            OR named_customer NOT IN (SELECT customer_id FROM customers UNION ALL SELECT merged_id FROM customer_merges),
            'customer_id',
            CASE WHEN named_customer IS NOT NULL THEN 'unknown customer'
                 WHEN regexp_matches(CAST(raw_value AS VARCHAR), '^(no customer number|not linked)')
                 THEN 'no customer identified by number, e-mail or phone'
                 ELSE 'missing or not a whole number' END,
            raw_value, 'row_rejected');

-- An event must have a moment that can be true.
CREATE OR REPLACE TEMP MACRO event_time_problem(ts, field_name, missing_reason, raw_value) AS
    problem(ts IS NULL OR implausible_time(ts), field_name,
            CASE WHEN ts IS NULL THEN missing_reason ELSE 'before 2000 or in the future' END,
            raw_value, 'row_rejected');

CREATE OR REPLACE TEMP MACRO too_long(x) AS strlen(x) > {max_text} AND length(x) > {max_text};
