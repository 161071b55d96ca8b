-- == sqlite forwards ==
CREATE TEMP TABLE _mc_rebuild_book AS SELECT * FROM main.book;

DROP TABLE main.book;

CREATE TABLE book (
    id INTEGER NOT NULL, 
    author_id INTEGER NOT NULL, 
    title VARCHAR(200) DEFAULT 'untitled' NOT NULL, 
    status VARCHAR(9), 
    price NUMERIC(10, 2), 
    editor_id INTEGER, 
    CONSTRAINT pk_book PRIMARY KEY (id), 
    CONSTRAINT fk_book_author_id_author FOREIGN KEY(author_id) REFERENCES author (id) ON DELETE CASCADE, 
    CONSTRAINT fk_book_editor_id_author FOREIGN KEY(editor_id) REFERENCES author (id), 
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
ALTER TABLE book ADD COLUMN editor_id INTEGER;

ALTER TABLE book ADD CONSTRAINT fk_book_editor_id_author FOREIGN KEY(editor_id) REFERENCES author (id);


-- == postgresql backwards ==
ALTER TABLE book DROP CONSTRAINT fk_book_editor_id_author;

ALTER TABLE book DROP COLUMN editor_id;


-- == mysql forwards ==
ALTER TABLE book ADD COLUMN editor_id INTEGER;

ALTER TABLE book ADD CONSTRAINT fk_book_editor_id_author FOREIGN KEY(editor_id) REFERENCES author (id);


-- == mysql backwards ==
ALTER TABLE book DROP FOREIGN KEY fk_book_editor_id_author;

ALTER TABLE book DROP COLUMN editor_id;

