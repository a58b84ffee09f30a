"""Customer-value models: BG/NBD for how often and how long customers buy, Gamma-Gamma for how
much they spend per purchase. Fitted by maximum likelihood in the ETL's marts step."""
