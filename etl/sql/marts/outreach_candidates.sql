-- Who should hear from us, one row per customer: every rule that fires (crm360/outreach_rules.py,
-- thresholds in crm360/config.py), the reasons in words, the channel for the service reasons
-- and the one for the marketing reasons, and a priority = value at stake x chance that contact helps.
--   Do-not-contact customers appear in no row. Marketing rules count only when the customer
--   consented to marketing on at least one channel (marketing_consent: the CRM's consent less
--   İYS refusals), and the suggested channel is one of those; service rules answer the customer's
--   own matter on the channel they used (or prefer).
--   value_at_stake_try = predicted 12-month value + the stake of each open complaint by severity.
--   chance_contact_helps = 1 - product over the rules of (1 - the rule's chance).
-- Three tables:
--   outreach_candidates        the list (names, consented contact details only, masked ones apart)
--   outreach_service_contacts  the phone or e-mail a service row's contact needs (no marketing
--                              consent needed to answer a customer's own matter): for service users
--   outreach_reach             everyone a rule fires for, do-not-contact and unconsented included,
--                              with no name or contact detail: what a campaign would leave out, and why
SET VARIABLE data_as_of = (SELECT data_as_of FROM dataset_info);

-- The next date on or after `today` with the month and day of `since` (29 February: the 28th in
-- common years).
CREATE OR REPLACE MACRO next_anniversary(since, today) AS (
    CASE WHEN (since + to_years(year(today) - year(since)))::DATE >= today
         THEN (since + to_years(year(today) - year(since)))::DATE
         ELSE (since + to_years(year(today) - year(since) + 1))::DATE END);

CREATE OR REPLACE TABLE outreach_rules (rule VARCHAR, kind VARCHAR, reason VARCHAR, chance_it_helps DOUBLE);
INSERT INTO outreach_rules VALUES {outreach_rules};

CREATE OR REPLACE TEMP TABLE _outreach_reasons AS
WITH now AS (SELECT getvariable('data_as_of') AS at),
fired AS (
    SELECT customer_id, 'overdue_response' AS rule, channel AS matter_channel
    FROM complaints, now
    WHERE status <> 'resolved' AND first_response_at IS NULL
      AND opened_at + INTERVAL {response_promise_hours} HOUR < now.at
    UNION ALL
    SELECT customer_id, 'stalled_complaint', channel
    FROM complaints, now
    WHERE status <> 'resolved' AND first_response_at IS NOT NULL
      AND first_response_at < now.at - INTERVAL {stalled_complaint_days} DAY
    UNION ALL
    SELECT customer_id, 'post_resolution_followup', channel
    FROM complaints, now
    WHERE status = 'resolved' AND resolved_at > now.at - INTERVAL {follow_up_window_days} DAY
      AND resolved_at <= now.at
    UNION ALL
    SELECT c.customer_id, 'known_issue_fixed', c.channel
    FROM complaints c JOIN product_issues i USING (product_id), now
    WHERE c.category = 'defective_product' AND i.fix_shipped_at IS NOT NULL
      AND c.opened_at::DATE < i.fix_shipped_at AND i.fix_shipped_at <= now.at::DATE
    UNION ALL
    SELECT customer_id, 'detractor_recovery', NULL
    FROM survey_responses, now
    WHERE nps_score <= 6 AND responded_at > now.at - INTERVAL {detractor_window_days} DAY AND responded_at <= now.at
    UNION ALL
    SELECT customer_id, 'detractor_recovery', channel
    FROM interactions, now
    WHERE csat <= 2 AND started_at > now.at - INTERVAL {detractor_window_days} DAY AND started_at <= now.at
    UNION ALL
    SELECT customer_id, 'high_value_at_risk', NULL
    FROM customer_summary, now
    WHERE value_top_share <= {high_value_top_share}
      AND (p_alive < {at_risk_p_alive}
           OR (usual_days_between_orders IS NOT NULL  -- a rhythm needs two orders or more
               AND date_diff('day', last_purchase_at, now.at) > {quiet_gap_factor} * greatest(usual_days_between_orders, 7)))
    UNION ALL
    SELECT customer_id, 'champion_referral', NULL
    FROM customer_summary WHERE rfm_segment = 'Champions' AND last_nps_score >= 9
    UNION ALL
    SELECT customer_id, 'birthday', NULL
    FROM customers, now
    WHERE birth_date IS NOT NULL AND date_diff('day', now.at::DATE, next_anniversary(birth_date, now.at::DATE))
          < {celebration_window_days}
    UNION ALL
    SELECT customer_id, 'anniversary', NULL
    FROM customers, now
    WHERE signup_date IS NOT NULL AND signup_date < now.at::DATE - INTERVAL 300 DAY
      AND date_diff('day', now.at::DATE, next_anniversary(signup_date, now.at::DATE)) < {celebration_window_days}
    UNION ALL
    SELECT customer_id, 'tier_upgrade_within_reach', NULL
    FROM customer_summary
    WHERE loyalty_tier IS NOT NULL
      AND trailing_12m_revenue_try >= {tier_upgrade_reach} * {next_tier_of_spend}
), stakes AS (
    SELECT customer_id, sum({severity_stake}) AS complaint_stake_try
    FROM complaints WHERE status <> 'resolved' GROUP BY customer_id
)
SELECT f.customer_id, r.kind,
       list(DISTINCT f.rule ORDER BY f.rule) AS rules,
       list(DISTINCT r.reason ORDER BY r.reason) AS reasons,
       any_value(f.matter_channel) FILTER (WHERE f.matter_channel IS NOT NULL) AS matter_channel,
       exp(sum(ln(1 - r.chance_it_helps))) AS chance_none_helps,
       coalesce(s.predicted_clv_12m, 0) + coalesce(any_value(k.complaint_stake_try), 0) AS value_at_stake_try
FROM (SELECT DISTINCT customer_id, rule, matter_channel FROM fired) f
JOIN outreach_rules r USING (rule)
JOIN customer_summary s USING (customer_id)
LEFT JOIN stakes k USING (customer_id)
GROUP BY f.customer_id, r.kind, s.predicted_clv_12m;

-- Service reasons go to the customer's own matter: the channel they used if we can reach them
-- there, else the one they prefer, else the phone. Marketing reasons go only to a channel with
-- marketing consent: the preferred one if consented, else the first consented.
CREATE OR REPLACE TEMP MACRO service_channel_of(is_service, matter, preferred) AS
    CASE WHEN is_service THEN coalesce(CASE WHEN matter IN ('phone', 'email', 'sms') THEN matter END,
                                       CASE WHEN preferred IN ('phone', 'email', 'sms') THEN preferred END,
                                       'phone') END;
CREATE OR REPLACE TEMP MACRO marketing_channel_of(is_marketing, consented, preferred) AS
    CASE WHEN is_marketing AND len(consented) > 0 THEN
         CASE WHEN list_contains(consented, preferred) THEN preferred ELSE consented[1] END END;

CREATE OR REPLACE TABLE outreach_candidates AS
WITH allowed AS (
    -- Marketing reasons only where a consented channel exists; nobody who said do-not-contact.
    SELECT r.*, m.preferred_channel, m.marketing_channels
    FROM _outreach_reasons r JOIN marketing_consent m USING (customer_id)
    WHERE NOT m.do_not_contact AND (r.kind = 'service' OR len(m.marketing_channels) > 0)
)
SELECT a.customer_id, s.full_name, s.city, s.rfm_segment, s.loyalty_tier, s.churn_risk_band,
       s.net_revenue_try, s.predicted_clv_12m,
       -- Contact details travel with their consent: a detail only where consented (else empty), and
       -- masked in a column of its own (crm360/masking.py), so a marketing user or a dialler never
       -- gets the rest and a phone column holds phones only.
       {consented_email} AS email, {consented_phone} AS phone,
       {masked_email} AS email_masked, {masked_phone} AS phone_masked,
       flatten(list(a.rules ORDER BY a.kind DESC)) AS rules,
       flatten(list(a.reasons ORDER BY a.kind DESC)) AS reasons,
       bool_or(a.kind = 'service') AS service,
       bool_or(a.kind = 'marketing') AS marketing,
       service_channel_of(bool_or(a.kind = 'service'),
                          any_value(a.matter_channel) FILTER (WHERE a.kind = 'service'),
                          any_value(a.preferred_channel)) AS service_channel,
       marketing_channel_of(bool_or(a.kind = 'marketing'), any_value(a.marketing_channels),
                            any_value(a.preferred_channel)) AS marketing_channel,
       any_value(a.value_at_stake_try) AS value_at_stake_try,
       1 - product(a.chance_none_helps) AS chance_contact_helps,
       any_value(a.value_at_stake_try) * (1 - product(a.chance_none_helps)) AS priority
FROM allowed a
JOIN customer_summary s USING (customer_id)
JOIN marketing_consent m USING (customer_id)
GROUP BY a.customer_id, s.full_name, s.city, s.rfm_segment, s.loyalty_tier, s.churn_risk_band, s.net_revenue_try,
         s.predicted_clv_12m, s.email, s.phone, m.consent_email, m.consent_sms, m.consent_phone
ORDER BY priority DESC, a.customer_id;

-- The detail a service row's contact needs, whatever the marketing consent: the phone for a call
-- or an SMS, the e-mail for an e-mail.
CREATE OR REPLACE TABLE outreach_service_contacts AS
SELECT o.customer_id,
       CASE WHEN o.service_channel IN ('phone', 'sms') THEN c.phone END AS service_phone,
       CASE WHEN o.service_channel = 'email' THEN c.email END AS service_email
FROM outreach_candidates o JOIN customers c USING (customer_id)
WHERE o.service
ORDER BY o.customer_id;

-- Everyone a rule fires for, with the columns the outreach filters read and what decides whether a
-- campaign may reach them: do-not-contact, the consented channels, the service channel. No name
-- and no contact detail: it is counted, never listed.
CREATE OR REPLACE TABLE outreach_reach AS
SELECT r.customer_id, s.city, s.rfm_segment, s.loyalty_tier, s.churn_risk_band,
       any_value(m.do_not_contact) AS do_not_contact, any_value(m.marketing_channels) AS marketing_channels,
       any_value(s.phone) IS NOT NULL AS has_phone, any_value(s.email) IS NOT NULL AS has_email,
       flatten(list(r.rules ORDER BY r.kind DESC)) AS rules,
       bool_or(r.kind = 'service') AS service,
       bool_or(r.kind = 'marketing') AS marketing,
       service_channel_of(bool_or(r.kind = 'service'),
                          any_value(r.matter_channel) FILTER (WHERE r.kind = 'service'),
                          any_value(m.preferred_channel)) AS service_channel,
       marketing_channel_of(bool_or(r.kind = 'marketing'), any_value(m.marketing_channels),
                            any_value(m.preferred_channel)) AS marketing_channel,
       coalesce(flatten(list(r.reasons) FILTER (WHERE r.kind = 'service')), []) AS service_reasons,
       coalesce(flatten(list(r.reasons) FILTER (WHERE r.kind = 'marketing')), []) AS marketing_reasons,
       any_value(r.value_at_stake_try) AS value_at_stake_try
FROM _outreach_reasons r
JOIN marketing_consent m USING (customer_id)
JOIN customer_summary s USING (customer_id)
GROUP BY r.customer_id, s.city, s.rfm_segment, s.loyalty_tier, s.churn_risk_band
ORDER BY r.customer_id;

DROP TABLE _outreach_reasons;
