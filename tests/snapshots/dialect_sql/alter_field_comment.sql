-- == sqlite forwards ==

-- == sqlite backwards ==

-- == postgresql forwards ==
COMMENT ON COLUMN author.email IS 'where to write';


-- == postgresql backwards ==
COMMENT ON COLUMN author.email IS NULL;


-- == mysql forwards ==
ALTER TABLE author MODIFY email VARCHAR(100) NULL COMMENT 'where to write';


-- == mysql backwards ==
ALTER TABLE author MODIFY email VARCHAR(100) NULL;

