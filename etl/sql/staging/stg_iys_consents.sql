-- İYS (İleti Yönetim Sistemi) consent records: one per recipient address, channel and date. The
-- mapping turns İYS's words into ours (ARAMA -> phone, MESAJ -> sms, EPOSTA -> email; ONAY ->
-- approved, RET -> refused). A record we cannot read is rejected, never guessed: it can only
-- remove a consent, and a misread one could remove the wrong one or keep the right one.
WITH typed AS (
    SELECT
        r._malformed,
        r.recipient AS raw_recipient, r.channel AS raw_channel, r.status AS raw_status,
        r.decided_at AS raw_decided_at,
        lower(trim(r.channel)) AS channel,
        lower(trim(r.status)) AS status,
        CASE WHEN contains(r.recipient, '@') THEN normalize_email(r.recipient)
             ELSE normalize_phone(r.recipient) END AS recipient,
        parse_moment(trim(r.decided_at)) AS decided_at
    FROM {raw} r
)
SELECT
    recipient, channel, status, decided_at,
    list_filter([
        problem(_malformed, 'record', 'not a valid record', NULL, 'row_rejected'),
        problem(NOT _malformed AND recipient IS NULL, 'recipient', 'not a phone number or an e-mail address',
                raw_recipient, 'row_rejected'),
        problem(NOT _malformed AND coalesce(channel NOT IN ('phone', 'sms', 'email'), true), 'channel',
                'not an İYS channel (ARAMA, MESAJ, EPOSTA)', raw_channel, 'row_rejected'),
        problem(NOT _malformed AND recipient IS NOT NULL AND channel IN ('phone', 'sms', 'email')
                AND (channel = 'email') <> contains(recipient, '@'), 'recipient',
                'an e-mail address on a phone channel, or a phone on EPOSTA', raw_recipient, 'row_rejected'),
        problem(NOT _malformed AND coalesce(status NOT IN ('approved', 'refused'), true), 'status',
                'not an İYS status (ONAY, RET)', raw_status, 'row_rejected'),
        problem(NOT _malformed AND decided_at IS NULL, 'decided_at', 'missing or not a date', raw_decided_at,
                'row_rejected')
    ], lambda p: p IS NOT NULL) AS _problems
FROM typed
