-- == sqlite forwards ==
CREATE TEMP TABLE _mc_rebuild_author AS SELECT * FROM main.author;

DROP TABLE main.author;

CREATE TABLE author (
    id INTEGER NOT NULL, 
    name VARCHAR(50) NOT NULL, 
    CONSTRAINT pk_author PRIMARY KEY (id)
);

INSERT INTO main.author (id, name) SELECT id, name FROM temp._mc_rebuild_author;

DROP TABLE temp._mc_rebuild_author;

CREATE INDEX ix_author_name ON author (name);


-- == sqlite backwards ==
ALTER TABLE author ADD COLUMN email VARCHAR(100);


-- == postgresql forwards ==
ALTER TABLE author DROP COLUMN email;


-- == postgresql backwards ==
ALTER TABLE author ADD COLUMN email VARCHAR(100);


-- == mysql forwards ==
ALTER TABLE author DROP COLUMN email;


-- == mysql backwards ==
ALTER TABLE author ADD COLUMN email VARCHAR(100);

