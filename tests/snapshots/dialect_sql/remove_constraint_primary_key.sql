-- == sqlite forwards ==
CREATE TEMP TABLE _mc_rebuild_author AS SELECT * FROM main.author;

DROP TABLE main.author;

CREATE TABLE author (
    id INTEGER NOT NULL, 
    name VARCHAR(50) NOT NULL, 
    email VARCHAR(100)
);

INSERT INTO main.author (id, name, email) SELECT id, name, email FROM temp._mc_rebuild_author;

DROP TABLE temp._mc_rebuild_author;

CREATE INDEX ix_author_name ON author (name);


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
ALTER TABLE author DROP CONSTRAINT pk_author;


-- == postgresql backwards ==
ALTER TABLE author ADD CONSTRAINT pk_author PRIMARY KEY (id);


-- == mysql forwards ==
ALTER TABLE author MODIFY id INTEGER NOT NULL;

ALTER TABLE author DROP PRIMARY KEY;


-- == mysql backwards ==
ALTER TABLE author MODIFY id INTEGER NOT NULL AUTO_INCREMENT, ADD PRIMARY KEY (id);

