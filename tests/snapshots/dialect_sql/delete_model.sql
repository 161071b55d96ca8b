-- == sqlite forwards ==
DROP TABLE book;


-- == sqlite backwards ==
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


-- == postgresql forwards ==
DROP TABLE book;


-- == postgresql backwards ==
CREATE TYPE book_status AS ENUM ('draft', 'published');

CREATE TABLE book (
    id SERIAL NOT NULL, 
    author_id INTEGER NOT NULL, 
    title VARCHAR(200) DEFAULT 'untitled' NOT NULL, 
    status book_status, 
    price NUMERIC(10, 2), 
    CONSTRAINT pk_book PRIMARY KEY (id), 
    CONSTRAINT fk_book_author_id_author FOREIGN KEY(author_id) REFERENCES author (id) ON DELETE CASCADE, 
    CONSTRAINT uq_book_title_author_id UNIQUE (title, author_id), 
    CONSTRAINT ck_book_price_positive CHECK (price >= 0)
);


-- == mysql forwards ==
DROP TABLE book;


-- == mysql backwards ==
CREATE TABLE book (
    id INTEGER NOT NULL AUTO_INCREMENT, 
    author_id INTEGER NOT NULL, 
    title VARCHAR(200) NOT NULL DEFAULT 'untitled', 
    status ENUM('draft','published'), 
    price NUMERIC(10, 2), 
    CONSTRAINT pk_book PRIMARY KEY (id), 
    CONSTRAINT fk_book_author_id_author FOREIGN KEY(author_id) REFERENCES author (id) ON DELETE CASCADE, 
    CONSTRAINT uq_book_title_author_id UNIQUE (title, author_id), 
    CONSTRAINT ck_book_price_positive CHECK (price >= 0)
);

