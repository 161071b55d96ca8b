-- == sqlite forwards ==

-- == sqlite backwards ==

-- == postgresql forwards ==
COMMENT ON TABLE author IS 'writers';


-- == postgresql backwards ==
COMMENT ON TABLE author IS 'people who write';


-- == mysql forwards ==
ALTER TABLE author COMMENT 'writers';


-- == mysql backwards ==
ALTER TABLE author COMMENT 'people who write';

