"""The market's own pages (about, contact, terms, returns, privacy, the programme badge): texts
in Persian and English kept in the database, edited by staff without a deploy."""
