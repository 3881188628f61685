DROP TABLE entity_catalog;
