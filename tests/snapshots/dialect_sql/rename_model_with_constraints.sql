-- == sqlite forwards ==
ALTER TABLE book RENAME TO volume;

CREATE TEMP TABLE _mc_rebuild_volume AS SELECT * FROM main.volume;

DROP TABLE main.volume;

CREATE TABLE volume (
    id INTEGER NOT NULL, 
    author_id INTEGER NOT NULL, 
    title VARCHAR(200) DEFAULT 'untitled' NOT NULL, 
    status VARCHAR(9), 
    price NUMERIC(10, 2), 
    CONSTRAINT pk_volume PRIMARY KEY (id), 
    CONSTRAINT fk_volume_author_id_author FOREIGN KEY(author_id) REFERENCES author (id) ON DELETE CASCADE, 
    CONSTRAINT uq_volume_title_author_id UNIQUE (title, author_id), 
    CONSTRAINT ck_volume_price_positive CHECK (price >= 0)
);

INSERT INTO main.volume (id, author_id, title, status, price) SELECT id, author_id, title, status, price FROM temp._mc_rebuild_volume;

DROP TABLE temp._mc_rebuild_volume;


-- == sqlite backwards ==
CREATE TEMP TABLE _mc_rebuild_volume AS SELECT * FROM main.volume;

DROP TABLE main.volume;

CREATE TABLE volume (
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

INSERT INTO main.volume (id, author_id, title, status, price) SELECT id, author_id, title, status, price FROM temp._mc_rebuild_volume;

DROP TABLE temp._mc_rebuild_volume;

ALTER TABLE volume RENAME TO book;


-- == postgresql forwards ==
ALTER TABLE book RENAME TO volume;

ALTER SEQUENCE IF EXISTS book_id_seq RENAME TO volume_id_seq;

ALTER TABLE volume RENAME CONSTRAINT pk_book TO pk_volume;

ALTER TABLE volume RENAME CONSTRAINT uq_book_title_author_id TO uq_volume_title_author_id;

ALTER TABLE volume RENAME CONSTRAINT ck_book_price_positive TO ck_volume_price_positive;

ALTER TABLE volume RENAME CONSTRAINT fk_book_author_id_author TO fk_volume_author_id_author;


-- == postgresql backwards ==
ALTER TABLE volume RENAME CONSTRAINT fk_volume_author_id_author TO fk_book_author_id_author;

ALTER TABLE volume RENAME CONSTRAINT ck_volume_price_positive TO ck_book_price_positive;

ALTER TABLE volume RENAME CONSTRAINT uq_volume_title_author_id TO uq_book_title_author_id;

ALTER TABLE volume RENAME CONSTRAINT pk_volume TO pk_book;

ALTER TABLE volume RENAME TO book;

ALTER SEQUENCE IF EXISTS volume_id_seq RENAME TO book_id_seq;


-- == mysql forwards ==
ALTER TABLE book RENAME TO volume;

ALTER TABLE volume RENAME INDEX uq_book_title_author_id TO uq_volume_title_author_id;

ALTER TABLE volume DROP CHECK ck_book_price_positive;

ALTER TABLE volume ADD CONSTRAINT ck_volume_price_positive CHECK (price >= 0);

ALTER TABLE volume DROP FOREIGN KEY fk_book_author_id_author;

ALTER TABLE volume ADD CONSTRAINT fk_volume_author_id_author FOREIGN KEY(author_id) REFERENCES author (id) ON DELETE CASCADE;


-- == mysql backwards ==
ALTER TABLE volume DROP FOREIGN KEY fk_volume_author_id_author;

ALTER TABLE volume ADD CONSTRAINT fk_book_author_id_author FOREIGN KEY(author_id) REFERENCES author (id) ON DELETE CASCADE;

ALTER TABLE volume DROP CHECK ck_volume_price_positive;

ALTER TABLE volume ADD CONSTRAINT ck_book_price_positive CHECK (price >= 0);

ALTER TABLE volume RENAME INDEX uq_volume_title_author_id TO uq_book_title_author_id;

ALTER TABLE volume RENAME TO book;

