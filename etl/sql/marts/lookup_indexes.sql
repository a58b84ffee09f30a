-- Not a mart: the indexes that make a mid-call lookup a handful of point reads. Fact tables are
-- clustered by customer, so an index probe lands on the few vectors holding that customer's
-- rows instead of decoding a whole 122,880-row group of every column.
CREATE INDEX customer_summary_id ON customer_summary (customer_id);
CREATE INDEX customer_summary_phone ON customer_summary (phone);
CREATE INDEX customer_summary_email ON customer_summary (email);
CREATE INDEX customers_id ON customers (customer_id);
CREATE INDEX interactions_customer ON interactions (customer_id);
CREATE INDEX purchases_customer ON purchases (customer_id);
CREATE INDEX complaints_customer ON complaints (customer_id);
CREATE INDEX survey_responses_customer ON survey_responses (customer_id);
