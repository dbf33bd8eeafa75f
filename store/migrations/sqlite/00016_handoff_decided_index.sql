-- +goose Up
-- The inbox lists handoffs decided in the last days and the SLA report
-- counts rejections by decision time: both read decided handoffs by date.
CREATE INDEX assignments_decided ON assignments (decided_at) WHERE decided_at IS NOT NULL;

-- +goose Down
DROP INDEX assignments_decided;
