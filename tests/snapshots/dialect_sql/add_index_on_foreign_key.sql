-- == sqlite forwards ==
CREATE INDEX ix_book_author_id_title ON book (author_id, title);


-- == sqlite backwards ==
DROP INDEX ix_book_author_id_title;


-- == postgresql forwards ==
CREATE INDEX ix_book_author_id_title ON book (author_id, title);


-- == postgresql backwards ==
DROP INDEX ix_book_author_id_title;


-- == mysql forwards ==
CREATE INDEX ix_book_author_id_title ON book (author_id, title);


-- == mysql backwards ==
DROP INDEX ix_book_author_id_title ON book;

