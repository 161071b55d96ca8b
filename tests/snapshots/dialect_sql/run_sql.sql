-- == sqlite forwards ==
UPDATE author SET name = '100%' WHERE name = ':x';

DELETE FROM book;


-- == sqlite backwards ==
SELECT 1;


-- == postgresql forwards ==
UPDATE author SET name = '100%' WHERE name = ':x';

DELETE FROM book;


-- == postgresql backwards ==
SELECT 1;


-- == mysql forwards ==
UPDATE author SET name = '100%' WHERE name = ':x';

DELETE FROM book;


-- == mysql backwards ==
SELECT 1;

