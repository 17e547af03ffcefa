-- Note tags become a JSON array. They were one text joined with U+001F, so a tag holding that
-- character came back as two. Existing rows are split once, here, in their order.
ALTER TABLE notes ADD COLUMN tag_list TEXT NOT NULL DEFAULT '[]';
WITH RECURSIVE split(id, n, rest, tag) AS (
    SELECT id, 0, tags || char(31), NULL FROM notes
    UNION ALL
    SELECT id, n + 1, substr(rest, instr(rest, char(31)) + 1), substr(rest, 1, instr(rest, char(31)) - 1)
    FROM split WHERE rest <> ''
)
UPDATE notes SET tag_list = (
    SELECT json_group_array(tag ORDER BY n) FROM split
    WHERE split.id = notes.id AND tag IS NOT NULL AND tag <> ''
);
ALTER TABLE notes DROP COLUMN tags;
ALTER TABLE notes RENAME COLUMN tag_list TO tags;
