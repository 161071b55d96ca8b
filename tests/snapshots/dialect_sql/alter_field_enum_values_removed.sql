-- == sqlite forwards ==
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
ALTER TYPE book_status RENAME TO book_status__old;

CREATE TYPE book_status AS ENUM ('published', 'draft');

ALTER TABLE book ALTER COLUMN status TYPE book_status USING status::text::book_status;

DROP TYPE book_status__old;


-- == postgresql backwards ==
ALTER TYPE book_status RENAME TO book_status__old;

CREATE TYPE book_status AS ENUM ('draft', 'published');

ALTER TABLE book ALTER COLUMN status TYPE book_status USING status::text::book_status;

DROP TYPE book_status__old;


-- == mysql forwards ==
SET @migrate_core_sql_mode = @@SESSION.sql_mode;

SET SESSION sql_mode = CONCAT_WS(',', NULLIF(@@SESSION.sql_mode, ''), 'STRICT_ALL_TABLES');

ALTER TABLE book MODIFY status ENUM('published','draft') NULL;

SET SESSION sql_mode = @migrate_core_sql_mode;


-- == mysql backwards ==
SET @migrate_core_sql_mode = @@SESSION.sql_mode;

SET SESSION sql_mode = CONCAT_WS(',', NULLIF(@@SESSION.sql_mode, ''), 'STRICT_ALL_TABLES');

ALTER TABLE book MODIFY status ENUM('draft','published') NULL;

SET SESSION sql_mode = @migrate_core_sql_mode;

