ALTER TABLE entity_catalog ADD COLUMN legacy_ref VARCHAR(64);
