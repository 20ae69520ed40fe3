PRAGMA foreign_keys=OFF;
-- A ledger written by ledger format 1 (before entries recorded running totals), as `sqlite3 .dump` prints it.
-- Budgets panel (basic: two commits, one refund) and model (rdp: one commit); 10 entries. Used by
-- Tests/BudgetLedgerTests/ChainTotalTests.swift to check that old ledgers stay verifiable and chargeable.
BEGIN TRANSACTION;
CREATE TABLE grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY);
INSERT INTO grdb_migrations VALUES('v1-entries');
CREATE TABLE entry (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('budget', 'reserve', 'commit', 'refund')),
    time_ms INTEGER NOT NULL,
    scope TEXT NOT NULL,
    analyst TEXT,
    purpose TEXT,
    reservation INTEGER,
    event TEXT,
    epsilon REAL,
    delta REAL,
    epsilon_units INTEGER,
    delta_units INTEGER,
    composition TEXT,
    digest TEXT,
    note TEXT,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO entry VALUES(1,'budget',1796161754330,'panel',NULL,NULL,NULL,NULL,10.0,9.9999999999999995472e-07,10000000000000,1000000000000,'basic',NULL,NULL,'0000000000000000000000000000000000000000000000000000000000000000','7b52d596d5740799b19d691f189b00cd810660c6a0efedf42461ac7400d18acd');
INSERT INTO entry VALUES(2,'reserve',1796161754639,'panel','ana','counts',NULL,'{"delta":1e-07,"epsilon":2,"type":"epsilon_delta"}',2.0,9.9999999999999995472e-08,2000000000000,100000000000,NULL,NULL,NULL,'7b52d596d5740799b19d691f189b00cd810660c6a0efedf42461ac7400d18acd','d3858c45ae9a2b343fc48a5b9a059069cfbfec67f0f5bb078d14e84eae496b9c');
INSERT INTO entry VALUES(3,'commit',1796161754689,'panel',NULL,NULL,2,NULL,NULL,NULL,NULL,NULL,NULL,'external release',NULL,'d3858c45ae9a2b343fc48a5b9a059069cfbfec67f0f5bb078d14e84eae496b9c','b8adb14af632ad9a02525bd43ff5f2d36c84203a286dc4134e4729527c083419');
INSERT INTO entry VALUES(4,'reserve',1796161754973,'panel','bob','means',NULL,'{"delta":0,"epsilon":3,"type":"epsilon_delta"}',3.0,0.0,3000000000000,0,NULL,NULL,NULL,'b8adb14af632ad9a02525bd43ff5f2d36c84203a286dc4134e4729527c083419','36a292d3fc476feb9af7a3df5d3c98d25d27a6a579cae64ae3758c4431d0bb35');
INSERT INTO entry VALUES(5,'refund',1796161755128,'panel',NULL,NULL,4,NULL,NULL,NULL,NULL,NULL,NULL,NULL,'no release','36a292d3fc476feb9af7a3df5d3c98d25d27a6a579cae64ae3758c4431d0bb35','75aa6b31e53349fb97af17b66c809c5372b61d5c3d74bfe06c38135693bece3c');
INSERT INTO entry VALUES(6,'reserve',1796161755388,'panel','ana','sums',NULL,'{"delta":0,"epsilon":0.5,"type":"epsilon_delta"}',0.5,0.0,500000000000,0,NULL,NULL,NULL,'75aa6b31e53349fb97af17b66c809c5372b61d5c3d74bfe06c38135693bece3c','8cb496de98fd1f3bddc590994c4c88f9d771ba927890ff37fe55d80ad06e1381');
INSERT INTO entry VALUES(7,'commit',1796161755440,'panel',NULL,NULL,6,NULL,NULL,NULL,NULL,NULL,NULL,'external release',NULL,'8cb496de98fd1f3bddc590994c4c88f9d771ba927890ff37fe55d80ad06e1381','1ddd1ce05a0fd01b69fc70ccfc7d0e260ec1c6f7c80fc88975dbe87c9926b71a');
INSERT INTO entry VALUES(8,'budget',1796161755557,'model',NULL,NULL,NULL,NULL,8.0,1.0000000000000000817e-05,8000000000000,10000000000000,'rdp',NULL,NULL,'1ddd1ce05a0fd01b69fc70ccfc7d0e260ec1c6f7c80fc88975dbe87c9926b71a','f43ac1ce91a3aa6dbeeef93ee1c6981956b166dd9a9dd49e36d2232b5f53d3ce');
INSERT INTO entry VALUES(9,'reserve',1796161755623,'model','ml','pure release',NULL,'{"delta":0,"epsilon":1,"type":"epsilon_delta"}',1.0,0.0,1000000000000,0,NULL,NULL,NULL,'f43ac1ce91a3aa6dbeeef93ee1c6981956b166dd9a9dd49e36d2232b5f53d3ce','5b823f04e37f827ac3a1232fd31e40bee17b489c504deb6f04a1610c83cda67a');
INSERT INTO entry VALUES(10,'commit',1796161755649,'model',NULL,NULL,9,NULL,NULL,NULL,NULL,NULL,NULL,'external release',NULL,'5b823f04e37f827ac3a1232fd31e40bee17b489c504deb6f04a1610c83cda67a','5ff99cf1360687921b16ba95c6b4ad4d9d062aa0c4caa4acf8622b1aff19b721');
CREATE TABLE scope_total (
    scope TEXT PRIMARY KEY,
    epsilon_units INTEGER NOT NULL,
    delta_units INTEGER NOT NULL
);
INSERT INTO scope_total VALUES('panel',2500000000000,100000000000);
INSERT INTO scope_total VALUES('model',1000000000000,0);
CREATE INDEX entry_scope ON entry (scope, kind);
CREATE INDEX entry_reservation ON entry (reservation) WHERE reservation IS NOT NULL;
CREATE TRIGGER entry_append_only_update BEFORE UPDATE ON entry
BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END;
CREATE TRIGGER entry_append_only_delete BEFORE DELETE ON entry
BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END;
COMMIT;
