DROP TABLE entity_relations;
