CREATE TABLE meta(key text PRIMARY KEY, value bytea NOT NULL);
CREATE TABLE generation(one boolean PRIMARY KEY DEFAULT true CHECK (one), n bigint NOT NULL);
INSERT INTO generation(n) VALUES(0);
CREATE TABLE ops( idx bigint PRIMARY KEY, op_id bytea NOT NULL, entity bytea NOT NULL, author bytea NOT NULL, kind bigint NOT NULL, hlc bigint NOT NULL, received_ms bigint NOT NULL, signed bytea NOT NULL, leaf_hash bytea NOT NULL, UNIQUE(entity, op_id));
CREATE TABLE entities( id bytea PRIMARY KEY, type bigint NOT NULL, op_count bigint NOT NULL, last_idx bigint NOT NULL, state bytea NOT NULL, state_hash bytea NOT NULL, target bytea, scope_org bytea, vis_class bigint NOT NULL, released boolean NOT NULL DEFAULT false, inspection bytea);
CREATE INDEX entities_inspection ON entities(inspection) WHERE inspection IS NOT NULL;
CREATE INDEX entities_type ON entities(type);
CREATE TABLE codes( kind bigint NOT NULL, code text NOT NULL, version bigint NOT NULL, entity bytea NOT NULL REFERENCES entities(id) DEFERRABLE INITIALLY DEFERRED, PRIMARY KEY(kind, code, version));
CREATE TABLE devices( key bytea PRIMARY KEY, device bytea NOT NULL UNIQUE REFERENCES entities(id) DEFERRABLE INITIALLY DEFERRED, "user" bytea NOT NULL, enrolled_idx bigint NOT NULL, revoked_idx bigint);
CREATE TABLE assignees( assignment bytea NOT NULL REFERENCES entities(id) DEFERRABLE INITIALLY DEFERRED, "user" bytea NOT NULL, PRIMARY KEY(assignment, "user"));
CREATE TABLE enroll_codes( hash bytea PRIMARY KEY, "user" bytea NOT NULL, created_ms bigint NOT NULL, expires_ms bigint NOT NULL, used_ms bigint, device bytea, revoked_ms bigint);
CREATE TABLE merkle( level bigint NOT NULL, idx bigint NOT NULL, hash bytea NOT NULL, PRIMARY KEY(level, idx));
CREATE TABLE checkpoints( size bigint PRIMARY KEY, root bytea NOT NULL, time_ms bigint NOT NULL, note text NOT NULL);
CREATE TABLE releases( seq bigint PRIMARY KEY, entity bytea NOT NULL, idx bigint NOT NULL REFERENCES ops(idx));
CREATE TABLE photo_refs( sha bytea NOT NULL, entity bytea NOT NULL, idx bigint NOT NULL, PRIMARY KEY(sha, entity));
CREATE TABLE device_seen( key bytea PRIMARY KEY, seen_ms bigint NOT NULL, agent text NOT NULL);
CREATE TABLE nonces( device bytea NOT NULL, nonce bytea NOT NULL, time_ms bigint NOT NULL, PRIMARY KEY(device, nonce));
CREATE INDEX nonces_time ON nonces(time_ms);

