-- == sqlite forwards ==

-- == sqlite backwards ==

-- == postgresql forwards ==
ALTER TABLE author ALTER COLUMN id DROP DEFAULT;

DROP SEQUENCE IF EXISTS author_id_seq;


-- == postgresql backwards ==
CREATE SEQUENCE IF NOT EXISTS author_id_seq OWNED BY author.id;

ALTER TABLE author ALTER COLUMN id SET DEFAULT nextval('author_id_seq'::regclass);

SELECT setval('author_id_seq'::regclass, COALESCE((SELECT MAX(id) FROM author), 0) + 1, false);


-- == mysql forwards ==
ALTER TABLE author MODIFY id INTEGER NOT NULL;


-- == mysql backwards ==
ALTER TABLE author MODIFY id INTEGER NOT NULL AUTO_INCREMENT;

