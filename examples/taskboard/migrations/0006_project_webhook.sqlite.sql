-- A project's optional webhook: an export that finishes (done or failed for good) is POSTed there,
-- signed (examples/taskboard/webhooks.rs).
ALTER TABLE projects ADD COLUMN webhook_url TEXT;
