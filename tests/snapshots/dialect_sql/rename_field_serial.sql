-- == sqlite forwards ==
ALTER TABLE author RENAME COLUMN id TO author_id;


-- == sqlite backwards ==
ALTER TABLE author RENAME COLUMN author_id TO id;


-- == postgresql forwards ==
ALTER TABLE author RENAME COLUMN id TO author_id;

ALTER SEQUENCE IF EXISTS author_id_seq RENAME TO author_author_id_seq;


-- == postgresql backwards ==
ALTER TABLE author RENAME COLUMN author_id TO id;

ALTER SEQUENCE IF EXISTS author_author_id_seq RENAME TO author_id_seq;


-- == mysql forwards ==
ALTER TABLE author RENAME COLUMN id TO author_id;


-- == mysql backwards ==
ALTER TABLE author RENAME COLUMN author_id TO id;

