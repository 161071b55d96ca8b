-- == sqlite forwards ==

-- == sqlite backwards ==

-- == postgresql forwards ==

-- == postgresql backwards ==

-- == mysql forwards ==

-- == mysql backwards ==
