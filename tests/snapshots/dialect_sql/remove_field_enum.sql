-- == sqlite forwards ==
CREATE TEMP TABLE _mc_rebuild_book AS SELECT * FROM main.book;

DROP TABLE main.book;

CREATE TABLE book (
    id INTEGER NOT NULL, 
    author_id INTEGER NOT NULL, 
    title VARCHAR(200) DEFAULT 'untitled' NOT NULL, 
    price NUMERIC(10, 2), 
    CONSTRAINT pk_book PRIMARY KEY (id), 
    CONSTRAINT fk_book_author_id_author FOREIGN KEY(author_id) REFERENCES author (id) ON DELETE CASCADE, 
    CONSTRAINT uq_book_title_author_id UNIQUE (title, author_id), 
    CONSTRAINT ck_book_price_positive CHECK (price >= 0)
);

INSERT INTO main.book (id, author_id, title, price) SELECT id, author_id, title, price FROM temp._mc_rebuild_book;

DROP TABLE temp._mc_rebuild_book;


-- == sqlite backwards ==
ALTER TABLE book ADD COLUMN status VARCHAR(9);


-- == postgresql forwards ==
ALTER TABLE book DROP COLUMN status;


-- == postgresql backwards ==
CREATE TYPE book_status AS ENUM ('draft', 'published');

ALTER TABLE book ADD COLUMN status book_status;


-- == mysql forwards ==
ALTER TABLE book DROP COLUMN status;


-- == mysql backwards ==
ALTER TABLE book ADD COLUMN status ENUM('draft','published');

