-- A new table and its index in one file: the table is empty, so nothing blocks.
CREATE TABLE entity_relations (
    parent_id UUID NOT NULL REFERENCES entity_catalog(id),
    child_id UUID NOT NULL REFERENCES entity_catalog(id),
    relation VARCHAR(50) NOT NULL,
    PRIMARY KEY (parent_id, child_id, relation)
);
CREATE INDEX idx_entity_relations_child ON entity_relations(child_id);
