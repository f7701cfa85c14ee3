"""Finding people and money: traces, financial data at arrears, and the legal basis of every request for them."""
