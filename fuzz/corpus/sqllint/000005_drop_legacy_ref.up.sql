-- Unsafe on purpose (the demo's lint example): the running release still reads
-- legacy_ref, so dropping it in the same release breaks it.
ALTER TABLE entity_catalog DROP COLUMN legacy_ref;
