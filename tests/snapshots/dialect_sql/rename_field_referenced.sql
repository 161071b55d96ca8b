-- == sqlite forwards ==
ALTER TABLE author RENAME COLUMN id TO "key";


-- == sqlite backwards ==
ALTER TABLE author RENAME COLUMN "key" TO id;


-- == postgresql forwards ==
ALTER TABLE author RENAME COLUMN id TO key;

ALTER SEQUENCE IF EXISTS author_id_seq RENAME TO author_key_seq;


-- == postgresql backwards ==
ALTER TABLE author RENAME COLUMN key TO id;

ALTER SEQUENCE IF EXISTS author_key_seq RENAME TO author_id_seq;


-- == mysql forwards ==
ALTER TABLE author RENAME COLUMN id TO `key`;


-- == mysql backwards ==
ALTER TABLE author RENAME COLUMN `key` TO id;

