-- == sqlite forwards ==

-- == sqlite backwards ==

-- == postgresql forwards ==
COMMENT ON TABLE author IS NULL;


-- == postgresql backwards ==
COMMENT ON TABLE author IS 'people who write';


-- == mysql forwards ==
ALTER TABLE author COMMENT '';


-- == mysql backwards ==
ALTER TABLE author COMMENT 'people who write';

