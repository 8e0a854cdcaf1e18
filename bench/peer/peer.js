// peer.js: PouchDB's push and pull as a user sees them, the peer of make bench's
// CLI figures (bench/peer/run.sh).  express-pouchdb serves a LevelDB-backed
// PouchDB on 127.0.0.1 and an ephemeral port; a "tablet" PouchDB in its own
// directory records N finding documents offline (not timed), replicates them up
// (timed: the push), and a fresh one replicates the database down (timed: the
// pull).  Prints result lines "key<TAB>value<TAB>unit<TAB>method" like bench.h.
//
//   node peer.js N DIR
'use strict';
const path = require('path');
const express = require('express');
const PouchDB = require('pouchdb');

async function main() {
  const n = parseInt(process.argv[2], 10);
  const dir = process.argv[3];
  if (!(n > 0) || !dir) throw new Error('usage: node peer.js N DIR');
  const Server = PouchDB.defaults({ prefix: path.join(dir, 'server-') });
  const app = express();
  app.use('/', require('express-pouchdb')(Server, { mode: 'minimumForPouchDB', logPath: path.join(dir, 'log.txt') }));
  const srv = await new Promise((resolve) => { const s = app.listen(0, '127.0.0.1', () => resolve(s)); });
  const remote = `http://127.0.0.1:${srv.address().port}/register`;

  const Local = PouchDB.defaults({ prefix: path.join(dir, 'tablet-') });
  const tablet = new Local('outbox');
  for (let i = 0; i < n; i++) {
    // What a finding carries on the tablet, as Spotcheck's finding op does.
    await tablet.put({
      _id: `finding-${String(i).padStart(8, '0')}`, type: 'finding', check: `check-${Math.floor(i / 100)}`,
      description: '楼道堆物、飞线充电', grade: 'general', category: 'FIRE', item: 'publicity',
      place: `${Math.floor(i / 100) + 1}号楼${(i % 100) + 1}单元楼道`, found_ms: Date.now(),
      author: 'inspector-1', status: 'open',
    });
  }
  let t0 = process.hrtime.bigint();
  const up = await tablet.replicate.to(new PouchDB(remote));
  const push = Number(process.hrtime.bigint() - t0) / 1e9;
  if (up.docs_written !== n) throw new Error(`push wrote ${up.docs_written} of ${n}`);

  const fresh = new Local('fresh');
  t0 = process.hrtime.bigint();
  const down = await fresh.replicate.from(new PouchDB(remote));
  const pull = Number(process.hrtime.bigint() - t0) / 1e9;
  if (down.docs_written !== n) throw new Error(`pull wrote ${down.docs_written} of ${n}`);
  console.log(`peer_push_${n}\t${(n / push).toFixed(1)}\tdocs/s\tPouchDB ${require('pouchdb/package.json').version}: one replicate.to of ${n} documents recorded offline, to express-pouchdb on 127.0.0.1`);
  console.log(`peer_pull_${n}\t${(n / pull).toFixed(1)}\tdocs/s\ta fresh PouchDB's replicate.from of those ${n} documents`);
  await new Promise((resolve) => srv.close(resolve));
}

main().then(() => process.exit(0), (e) => { console.error(`peer.js: ${e.stack || e}`); process.exit(1); });
