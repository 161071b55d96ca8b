-- == sqlite forwards ==
DROP INDEX ix_author_name;


-- == sqlite backwards ==
CREATE INDEX ix_author_name ON author (name);


-- == postgresql forwards ==
DROP INDEX ix_author_name;


-- == postgresql backwards ==
CREATE INDEX ix_author_name ON author (name);


-- == mysql forwards ==
DROP INDEX ix_author_name ON author;


-- == mysql backwards ==
CREATE INDEX ix_author_name ON author (name);

