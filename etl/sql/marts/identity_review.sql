-- Possible duplicate customers, for a person to judge on the data-health page: pairs the exact
-- rules (etl/identity.py) do not merge, because the evidence could also be two people.
--   same e-mail                         an address given twice, or a shared family mailbox
--   same name and phone                 registered twice, or a namesake using the family phone
--   same name and city, phones one digit apart   a typo in one system's phone
-- Pairs already decided (identity_decisions) are not proposed again: a "same person" pair was
-- merged by this load, a "different people" pair stays apart.
CREATE OR REPLACE TABLE identity_review AS
WITH candidates AS (
    SELECT a.customer_id AS customer_a, b.customer_id AS customer_b, 'same e-mail' AS reason, a.email AS evidence
    FROM customers a JOIN customers b ON a.email = b.email AND a.customer_id < b.customer_id
    UNION ALL
    SELECT a.customer_id, b.customer_id, 'same name and phone', a.phone
    FROM customers a JOIN customers b ON a.name_key = b.name_key AND a.phone = b.phone AND a.customer_id < b.customer_id
    UNION ALL
    SELECT a.customer_id, b.customer_id, 'same name and city, phones one digit apart', a.phone || ' / ' || b.phone
    FROM customers a JOIN customers b
      ON a.name_key = b.name_key AND a.city = b.city AND a.customer_id < b.customer_id
    WHERE length(a.phone) = length(b.phone) AND hamming(a.phone, b.phone) = 1
)
SELECT customer_a, customer_b, string_agg(reason, '; ' ORDER BY reason) AS reasons,
       string_agg(evidence, '; ' ORDER BY reason) AS evidence
FROM candidates c
WHERE NOT EXISTS (SELECT 1 FROM identity_decisions d WHERE d.customer_a = c.customer_a AND d.customer_b = c.customer_b)
GROUP BY customer_a, customer_b
ORDER BY customer_a, customer_b;
