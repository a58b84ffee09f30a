-- Every word of every customer's folded name, sorted by word, with what a search result shows:
-- a name search is a few prefix range reads here ("yil" -> 'yil' <= token < 'yim'), which zone
-- maps narrow to a handful of row groups, and the result rows come from the same reads instead
-- of a join back to a million customers.
CREATE OR REPLACE TABLE customer_name_tokens AS
SELECT DISTINCT unnest(string_split(name_key, ' ')) AS token,
       customer_id, full_name, name_key, city, phone, email, last_contact_at, orders, net_revenue_try,
       open_complaints
FROM customer_summary
WHERE name_key IS NOT NULL
ORDER BY token, customer_id;

-- The distinct words, for the one-typo fallback: edit distance over thousands of words, not
-- millions of names.
CREATE OR REPLACE TABLE customer_name_words AS
SELECT token, count(*) AS customers FROM customer_name_tokens WHERE token <> '' GROUP BY token ORDER BY token;
