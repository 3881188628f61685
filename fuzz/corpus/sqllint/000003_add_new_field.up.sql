-- Step 1 of the seed's zero-downtime example: add the column nullable.
ALTER TABLE entity_catalog ADD COLUMN new_field VARCHAR(255);
