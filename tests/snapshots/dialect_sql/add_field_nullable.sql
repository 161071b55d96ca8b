-- == sqlite forwards ==
ALTER TABLE author ADD COLUMN bio TEXT;


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
ALTER TABLE author ADD COLUMN bio TEXT;


-- == postgresql backwards ==
ALTER TABLE author DROP COLUMN bio;


-- == mysql forwards ==
ALTER TABLE author ADD COLUMN bio TEXT;


-- == mysql backwards ==
ALTER TABLE author DROP COLUMN bio;

