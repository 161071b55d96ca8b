-- == sqlite forwards ==
CREATE UNIQUE INDEX ix_author_email ON author (email);


-- == sqlite backwards ==
DROP INDEX ix_author_email;


-- == postgresql forwards ==
CREATE UNIQUE INDEX ix_author_email ON author (email);


-- == postgresql backwards ==
DROP INDEX ix_author_email;


-- == mysql forwards ==
CREATE UNIQUE INDEX ix_author_email ON author (email);


-- == mysql backwards ==
DROP INDEX ix_author_email ON author;

