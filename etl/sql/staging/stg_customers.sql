-- Customers from the CRM export: typed, checked and normalised; one row per raw row.
-- Phones become E.164, e-mails trimmed and lower case, names get a folded search key.
-- An unreadable do-not-contact flag counts as "do not contact": when in doubt, do not call.
WITH typed AS (
    SELECT
        r._malformed,
        r.customer_id AS raw_customer_id, r.full_name AS raw_full_name, r.email AS raw_email,
        r.phone AS raw_phone, r.birth_date AS raw_birth_date, r.signup_date AS raw_signup_date,
        r.preferred_channel AS raw_preferred_channel, r.do_not_contact AS raw_do_not_contact,
        TRY_CAST(r.customer_id AS BIGINT) AS customer_id,
        regexp_replace(trim(r.full_name), '\s+', ' ', 'g') AS full_name,
        normalize_email(r.email) AS email,
        normalize_phone(r.phone) AS phone,
        nullif(trim(r.city), '') AS city,
        parse_day(r.birth_date) AS birth_date,
        parse_day(r.signup_date) AS signup_date,
        lower(trim(r.preferred_channel)) AS preferred_channel,
        lower(trim(r.language)) AS language,
        parse_bool(r.consent_email) AS consent_email,
        parse_day(r.consent_email_at) AS consent_email_at,
        parse_bool(r.consent_sms) AS consent_sms,
        parse_day(r.consent_sms_at) AS consent_sms_at,
        parse_bool(r.consent_phone) AS consent_phone,
        parse_day(r.consent_phone_at) AS consent_phone_at,
        parse_bool(r.do_not_contact) AS do_not_contact,
        parse_day(r.do_not_contact_at) AS do_not_contact_at
    FROM {raw} r
)
SELECT
    customer_id, full_name, fold_text(full_name) AS name_key,
    email, phone, city, birth_date, signup_date,
    CASE WHEN preferred_channel IN {channels} THEN preferred_channel END AS preferred_channel,
    CASE WHEN regexp_matches(language, '^[a-z]{2}$') THEN language END AS language,
    coalesce(consent_email, false) AS consent_email, consent_email_at,
    coalesce(consent_sms, false) AS consent_sms, consent_sms_at,
    coalesce(consent_phone, false) AS consent_phone, consent_phone_at,
    coalesce(do_not_contact, true) AS do_not_contact, do_not_contact_at,
    list_filter([
        problem(_malformed, 'record', 'not a valid record', NULL, 'row_rejected'),
        problem(customer_id IS NULL, 'customer_id', 'missing or not a whole number', raw_customer_id, 'row_rejected'),
        problem(coalesce(full_name, '') = '', 'full_name', 'name is empty', raw_full_name, 'row_rejected'),
        problem(length(full_name) > 200, 'full_name', 'name longer than 200 characters', raw_full_name, 'row_rejected'),
        problem(nullif(trim(raw_email), '') IS NOT NULL AND email IS NULL, 'email', 'not an e-mail address', raw_email, 'value_cleared'),
        problem(nullif(trim(raw_phone), '') IS NOT NULL AND phone IS NULL, 'phone', 'not a phone number', raw_phone, 'value_cleared'),
        problem(nullif(trim(raw_birth_date), '') IS NOT NULL AND (birth_date IS NULL OR birth_date > current_date OR birth_date < DATE '1900-01-01'),
                'birth_date', 'not a plausible date', raw_birth_date, 'value_cleared'),
        problem(nullif(trim(raw_signup_date), '') IS NOT NULL AND signup_date IS NULL, 'signup_date', 'not a date', raw_signup_date, 'value_cleared'),
        problem(nullif(trim(raw_preferred_channel), '') IS NOT NULL AND preferred_channel NOT IN {channels},
                'preferred_channel', 'unknown channel', raw_preferred_channel, 'value_cleared'),
        problem(do_not_contact IS NULL AND nullif(trim(raw_do_not_contact), '') IS NOT NULL, 'do_not_contact',
                'unreadable flag, treated as do-not-contact', raw_do_not_contact, 'value_cleared')
    ], lambda p: p IS NOT NULL) AS _problems
FROM typed
