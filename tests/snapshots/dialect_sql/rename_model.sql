-- == sqlite forwards ==
ALTER TABLE book RENAME TO volume;


-- == sqlite backwards ==
ALTER TABLE volume RENAME TO book;


-- == postgresql forwards ==
ALTER TABLE book RENAME TO volume;

ALTER SEQUENCE IF EXISTS book_id_seq RENAME TO volume_id_seq;


-- == postgresql backwards ==
ALTER TABLE volume RENAME TO book;

ALTER SEQUENCE IF EXISTS volume_id_seq RENAME TO book_id_seq;


-- == mysql forwards ==
ALTER TABLE book RENAME TO volume;


-- == mysql backwards ==
ALTER TABLE volume RENAME TO book;

