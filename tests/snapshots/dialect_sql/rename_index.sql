-- == sqlite forwards ==
DROP INDEX ix_author_name;

CREATE INDEX ix_author_nom ON author (name);


-- == sqlite backwards ==
DROP INDEX ix_author_nom;

CREATE INDEX ix_author_name ON author (name);


-- == postgresql forwards ==
ALTER INDEX ix_author_name RENAME TO ix_author_nom;


-- == postgresql backwards ==
ALTER INDEX ix_author_nom RENAME TO ix_author_name;


-- == mysql forwards ==
ALTER TABLE author RENAME INDEX ix_author_name TO ix_author_nom;


-- == mysql backwards ==
ALTER TABLE author RENAME INDEX ix_author_nom TO ix_author_name;

