-- Marketing consent per customer and channel as every marketing list and export applies it: the
-- CRM's consent, unless Turkey's commercial-message register (İYS, the optional iys_consents
-- source) last recorded a refusal for the customer's phone (ARAMA = phone, MESAJ = sms) or e-mail
-- (EPOSTA = email) on that channel. The latest İYS record per address and channel counts. An İYS
-- approval adds no consent the CRM lacks (README, "İYS"). Do-not-contact travels with it, so a
-- reader has one place to ask "may marketing contact this customer, and how".
CREATE OR REPLACE TABLE marketing_consent AS
WITH latest AS (
    SELECT recipient, channel, arg_max(status, decided_at) AS status
    FROM iys_consents GROUP BY recipient, channel
), applied AS (
    SELECT c.customer_id, c.do_not_contact, c.preferred_channel, c.email IS NOT NULL AS has_email,
           c.phone IS NOT NULL AS has_phone,
           c.consent_email AND e.status IS DISTINCT FROM 'refused' AS consent_email,
           c.consent_sms AND s.status IS DISTINCT FROM 'refused' AS consent_sms,
           c.consent_phone AND p.status IS DISTINCT FROM 'refused' AS consent_phone,
           list_filter(['email', 'sms', 'phone'], lambda ch:
               (ch = 'email' AND e.status = 'refused') OR (ch = 'sms' AND s.status = 'refused')
               OR (ch = 'phone' AND p.status = 'refused')) AS iys_refused
    FROM customers c
    LEFT JOIN latest e ON e.channel = 'email' AND e.recipient = c.email
    LEFT JOIN latest s ON s.channel = 'sms' AND s.recipient = c.phone
    LEFT JOIN latest p ON p.channel = 'phone' AND p.recipient = c.phone
)
SELECT customer_id, do_not_contact, preferred_channel, consent_email, consent_sms, consent_phone, iys_refused,
       -- A channel marketing can use: consented, and an address to reach the customer on it.
       list_filter(['email', 'sms', 'phone'], lambda ch:
           (ch = 'email' AND consent_email AND has_email) OR (ch = 'sms' AND consent_sms AND has_phone)
           OR (ch = 'phone' AND consent_phone AND has_phone)) AS marketing_channels
FROM applied
ORDER BY customer_id;
