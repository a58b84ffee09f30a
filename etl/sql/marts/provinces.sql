-- The 81 provinces with the number of customers in each: filters and maps list every
-- province, also those with no customer yet.
CREATE OR REPLACE TABLE provinces AS
SELECT p.province, coalesce(c.customers, 0) AS customers
FROM (SELECT unnest(getvariable('provinces')) AS province) p
LEFT JOIN (SELECT city AS province, count(*) AS customers FROM customers GROUP BY 1) c USING (province)
ORDER BY p.province COLLATE tr;
