-- Every word of every customer's folded name, one row per (word, customer), sorted by word: the
-- postings from which the app builds its in-memory name index (crm360.queries.name_index).
CREATE OR REPLACE TABLE customer_name_tokens AS
SELECT DISTINCT unnest(string_split(name_key, ' ')) AS token, customer_id
FROM customer_summary
WHERE name_key IS NOT NULL
ORDER BY token, customer_id;

-- The distinct words with how many customers' names hold each: the index's vocabulary, and the
-- one-typo fallback's edit distances run over thousands of words, not millions of names.
CREATE OR REPLACE TABLE customer_name_words AS
SELECT token, count(*) AS customers FROM customer_name_tokens WHERE token <> '' GROUP BY token ORDER BY token;
