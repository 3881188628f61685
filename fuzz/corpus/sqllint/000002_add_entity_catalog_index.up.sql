CREATE INDEX idx_entity_type ON entity_catalog(entity_type);
