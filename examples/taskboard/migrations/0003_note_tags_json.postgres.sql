-- Note tags become a JSON array. They were one text joined with U+001F, so a tag holding that
-- character came back as two. Existing rows are split once, here, in their order.
ALTER TABLE notes ALTER COLUMN tags TYPE JSONB
    USING to_jsonb(array_remove(string_to_array(tags, chr(31)), ''));
