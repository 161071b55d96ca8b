-- == sqlite forwards ==
CREATE TEMP TABLE _mc_rebuild_book AS SELECT * FROM main.book;

DROP TABLE main.book;

CREATE TABLE book (
    id INTEGER NOT NULL, 
    author_id INTEGER NOT NULL, 
    title VARCHAR(200) DEFAULT 'untitled' NOT NULL, 
    status VARCHAR(9), 
    price NUMERIC(12, 2), 
    CONSTRAINT pk_book PRIMARY KEY (id), 
    CONSTRAINT fk_book_author_id_author FOREIGN KEY(author_id) REFERENCES author (id) ON DELETE CASCADE, 
    CONSTRAINT uq_book_title_author_id UNIQUE (title, author_id), 
    CONSTRAINT ck_book_price_positive CHECK (price >= 0)
);

INSERT INTO main.book (id, author_id, title, status, price) SELECT id, author_id, title, status, price FROM temp._mc_rebuild_book;

DROP TABLE temp._mc_rebuild_book;


-- == sqlite backwards ==
CREATE TEMP TABLE _mc_rebuild_book AS SELECT * FROM main.book;

DROP TABLE main.book;

CREATE TABLE book (
    id INTEGER NOT NULL, 
    author_id INTEGER NOT NULL, 
    title VARCHAR(200) DEFAULT 'untitled' NOT NULL, 
    status VARCHAR(9), 
    price NUMERIC(10, 2), 
    CONSTRAINT pk_book PRIMARY KEY (id), 
    CONSTRAINT fk_book_author_id_author FOREIGN KEY(author_id) REFERENCES author (id) ON DELETE CASCADE, 
    CONSTRAINT uq_book_title_author_id UNIQUE (title, author_id), 
    CONSTRAINT ck_book_price_positive CHECK (price >= 0)
);

INSERT INTO main.book (id, author_id, title, status, price) SELECT id, author_id, title, status, price FROM temp._mc_rebuild_book;

DROP TABLE temp._mc_rebuild_book;


-- == postgresql forwards ==
ALTER TABLE book ALTER COLUMN price TYPE NUMERIC(12, 2) USING price::NUMERIC(12, 2);


-- == postgresql backwards ==
ALTER TABLE book ALTER COLUMN price TYPE NUMERIC(10, 2) USING price::NUMERIC(10, 2);


-- == mysql forwards ==
SET @migrate_core_sql_mode = @@SESSION.sql_mode;

SET SESSION sql_mode = CONCAT_WS(',', NULLIF(@@SESSION.sql_mode, ''), 'STRICT_ALL_TABLES');

ALTER TABLE book MODIFY price NUMERIC(12, 2) NULL;

SET SESSION sql_mode = @migrate_core_sql_mode;


-- == mysql backwards ==
SET @migrate_core_sql_mode = @@SESSION.sql_mode;

SET SESSION sql_mode = CONCAT_WS(',', NULLIF(@@SESSION.sql_mode, ''), 'STRICT_ALL_TABLES');

ALTER TABLE book MODIFY price NUMERIC(10, 2) NULL;

SET SESSION sql_mode = @migrate_core_sql_mode;

