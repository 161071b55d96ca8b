-- == sqlite forwards ==
CREATE TEMP TABLE _mc_rebuild_author AS SELECT * FROM main.author;

DROP TABLE main.author;

CREATE TABLE author (
    id INTEGER NOT NULL, 
    email VARCHAR(100), 
    CONSTRAINT pk_author PRIMARY KEY (id)
);

INSERT INTO main.author (id, email) SELECT id, email FROM temp._mc_rebuild_author;

DROP TABLE temp._mc_rebuild_author;


-- == sqlite backwards ==
CREATE TEMP TABLE _mc_rebuild_author AS SELECT * FROM main.author;

DROP TABLE main.author;

CREATE TABLE author (
    id INTEGER NOT NULL, 
    email VARCHAR(100), 
    name VARCHAR(50) NOT NULL, 
    CONSTRAINT pk_author PRIMARY KEY (id)
);

INSERT INTO main.author (id, email) SELECT id, email FROM temp._mc_rebuild_author;

DROP TABLE temp._mc_rebuild_author;

CREATE INDEX ix_author_name ON author (name);


-- == postgresql forwards ==
DROP INDEX ix_author_name;

ALTER TABLE author DROP COLUMN name;


-- == postgresql backwards ==
ALTER TABLE author ADD COLUMN name VARCHAR(50) NOT NULL;

CREATE INDEX ix_author_name ON author (name);


-- == mysql forwards ==
DROP INDEX ix_author_name ON author;

ALTER TABLE author DROP COLUMN name;


-- == mysql backwards ==
ALTER TABLE author ADD COLUMN name VARCHAR(50) NOT NULL;

CREATE INDEX ix_author_name ON author (name);

