-- == sqlite forwards ==
CREATE TEMP TABLE _mc_rebuild_author AS SELECT * FROM main.author;

DROP TABLE main.author;

CREATE TABLE author (
    id INTEGER NOT NULL, 
    name VARCHAR(50) NOT NULL, 
    mail VARCHAR(200), 
    rank BIGINT DEFAULT '1' NOT NULL, 
    CONSTRAINT pk_author PRIMARY KEY (id)
);

INSERT INTO main.author (id, name, mail, rank) SELECT id, name, email, rank FROM (SELECT id AS id, name AS name, email AS email, 0 AS rank FROM temp._mc_rebuild_author);

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

INSERT INTO main.author (id, name, email) SELECT id, name, email FROM (SELECT id AS id, name AS name, email AS email FROM (SELECT id AS id, name AS name, mail AS email, rank AS rank FROM temp._mc_rebuild_author));

DROP TABLE temp._mc_rebuild_author;

CREATE INDEX ix_author_name ON author (name);


-- == postgresql forwards ==
ALTER TABLE author ALTER COLUMN email TYPE VARCHAR(200) USING email::VARCHAR(200);

ALTER TABLE author ADD COLUMN rank INTEGER DEFAULT 0 NOT NULL;

ALTER TABLE author ALTER COLUMN rank DROP DEFAULT;

ALTER TABLE author ALTER COLUMN rank TYPE BIGINT USING rank::BIGINT;

ALTER TABLE author ALTER COLUMN rank SET DEFAULT '1';

ALTER TABLE author RENAME COLUMN email TO mail;


-- == postgresql backwards ==
ALTER TABLE author RENAME COLUMN mail TO email;

ALTER TABLE author ALTER COLUMN rank DROP DEFAULT;

ALTER TABLE author ALTER COLUMN rank TYPE INTEGER USING rank::INTEGER;

ALTER TABLE author DROP COLUMN rank;

ALTER TABLE author ALTER COLUMN email TYPE VARCHAR(100) USING email::VARCHAR(100);


-- == mysql forwards ==
SET @migrate_core_sql_mode = @@SESSION.sql_mode;

SET SESSION sql_mode = CONCAT_WS(',', NULLIF(@@SESSION.sql_mode, ''), 'STRICT_ALL_TABLES');

ALTER TABLE author MODIFY email VARCHAR(200) NULL;

SET SESSION sql_mode = @migrate_core_sql_mode;

ALTER TABLE author ADD COLUMN `rank` INTEGER NOT NULL DEFAULT 0;

ALTER TABLE author ALTER COLUMN `rank` DROP DEFAULT;

SET @migrate_core_sql_mode = @@SESSION.sql_mode;

SET SESSION sql_mode = CONCAT_WS(',', NULLIF(@@SESSION.sql_mode, ''), 'STRICT_ALL_TABLES');

ALTER TABLE author MODIFY `rank` BIGINT NOT NULL DEFAULT '1';

SET SESSION sql_mode = @migrate_core_sql_mode;

ALTER TABLE author RENAME COLUMN email TO mail;


-- == mysql backwards ==
ALTER TABLE author RENAME COLUMN mail TO email;

SET @migrate_core_sql_mode = @@SESSION.sql_mode;

SET SESSION sql_mode = CONCAT_WS(',', NULLIF(@@SESSION.sql_mode, ''), 'STRICT_ALL_TABLES');

ALTER TABLE author MODIFY `rank` INTEGER NOT NULL;

SET SESSION sql_mode = @migrate_core_sql_mode;

ALTER TABLE author DROP COLUMN `rank`;

SET @migrate_core_sql_mode = @@SESSION.sql_mode;

SET SESSION sql_mode = CONCAT_WS(',', NULLIF(@@SESSION.sql_mode, ''), 'STRICT_ALL_TABLES');

ALTER TABLE author MODIFY email VARCHAR(100) NULL;

SET SESSION sql_mode = @migrate_core_sql_mode;

