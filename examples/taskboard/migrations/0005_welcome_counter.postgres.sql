-- How many welcome mails each user got: a counter, so a repeated effect would show as 2 (the
-- welcome job keeps it to 1 through `JobCtx::once`).
CREATE TABLE mail_counts (
    user_id UUID PRIMARY KEY NOT NULL,
    welcome_mails BIGINT NOT NULL DEFAULT 0
);
