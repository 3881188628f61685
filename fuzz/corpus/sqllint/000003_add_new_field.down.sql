ALTER TABLE entity_catalog DROP COLUMN new_field;
