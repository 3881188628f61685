-- The seed's catalog of entities known to DictaMesh.
CREATE TABLE entity_catalog (
    id UUID PRIMARY KEY,
    entity_type VARCHAR(100) NOT NULL,
    source_system VARCHAR(100) NOT NULL,
    legacy_ref VARCHAR(64),
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
