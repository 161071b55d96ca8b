-- == sqlite forwards ==
ALTER TABLE author ADD COLUMN tier VARCHAR(4);


-- == sqlite backwards ==
CREATE TEMP TABLE _mc_rebuild_author AS SELECT * FROM main.author;

DROP TABLE main.author;

CREATE TABLE author (
    id INTEGER NOT NULL, 
    name VARCHAR(50) NOT NULL, 
    email VARCHAR(100), 
    CONSTRAINT pk_author PRIMARY KEY (id)
);

INSERT INTO main.author (id, name, email) SELECT id, name, email FROM temp._mc_rebuild_author;

DROP TABLE temp._mc_rebuild_author;

CREATE INDEX ix_author_name ON author (name);


-- == postgresql forwards ==
CREATE TYPE author_tier AS ENUM ('free', 'paid');

ALTER TABLE author ADD COLUMN tier author_tier;


-- == postgresql backwards ==
ALTER TABLE author DROP COLUMN tier;


-- == mysql forwards ==
ALTER TABLE author ADD COLUMN tier ENUM('free','paid');


-- == mysql backwards ==
ALTER TABLE author DROP COLUMN tier;

