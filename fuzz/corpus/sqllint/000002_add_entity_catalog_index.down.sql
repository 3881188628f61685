DROP INDEX idx_entity_type;
