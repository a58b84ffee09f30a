"""Domain code shared by the ETL and the app: configuration, text normalisation,
database access and the named queries each page calls."""
