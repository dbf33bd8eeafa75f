-- +goose Up
-- Deal lists filter by owner or status and page by id; these indexes let
-- both backends walk the matching rows in id order instead of scanning.
CREATE INDEX deals_owner ON deals (owner_id, id);
CREATE INDEX deals_status ON deals (status, id);

-- +goose Down
DROP INDEX deals_status;
DROP INDEX deals_owner;
