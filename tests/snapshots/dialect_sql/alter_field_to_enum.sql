-- == sqlite forwards ==
CREATE TEMP TABLE _mc_rebuild_author AS SELECT * FROM main.author;

DROP TABLE main.author;

CREATE TABLE author (
    id INTEGER NOT NULL, 
    name VARCHAR(50) NOT NULL, 
    email VARCHAR(1), 
    CONSTRAINT pk_author PRIMARY KEY (id)
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
CREATE TYPE author_email AS ENUM ('a', 'b');

ALTER TABLE author ALTER COLUMN email TYPE author_email USING email::text::author_email;


-- == postgresql backwards ==
ALTER TABLE author ALTER COLUMN email TYPE VARCHAR(100) USING email::text::VARCHAR(100);


-- == mysql forwards ==
SET @migrate_core_sql_mode = @@SESSION.sql_mode;

SET SESSION sql_mode = CONCAT_WS(',', NULLIF(@@SESSION.sql_mode, ''), 'STRICT_ALL_TABLES');

ALTER TABLE author MODIFY email ENUM('a','b') NULL;

SET SESSION sql_mode = @migrate_core_sql_mode;


-- == mysql backwards ==
SET @migrate_core_sql_mode = @@SESSION.sql_mode;

SET SESSION sql_mode = CONCAT_WS(',', NULLIF(@@SESSION.sql_mode, ''), 'STRICT_ALL_TABLES');

ALTER TABLE author MODIFY email VARCHAR(100) NULL;

SET SESSION sql_mode = @migrate_core_sql_mode;

