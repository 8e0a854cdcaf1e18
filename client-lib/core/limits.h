/*
 * limits.h: every limit of the format and the protocol, in one place, with
 * the reason for its number.  Buffers filled from the network or from disk
 * are capped by these before anything is allocated or unpacked.  syncd makes
 * the server-side ones configurable (docs/operations.md); these are the
 * defaults and the hard ceilings.
 */
#ifndef SC_CORE_LIMITS_H
#define SC_CORE_LIMITS_H

/*
 * Bytes in an error message: one line naming what and where, and when a
 * value is not one the call takes, the ones it does (a score sheet of a
 * hundred short item codes; a longer list is cut and says where to look).
 */
#define SC_ERR_MSG_MAX 1024

/* Entity ids are UUIDv7 (RFC 9562): 16 bytes. */
#define SC_ID_LEN 16
/* Op ids, photo addresses and Merkle hashes are SHA-256. */
#define SC_HASH_LEN 32
/* Ed25519 public keys name devices; signatures are 64 bytes. */
#define SC_KEY_LEN 32
#define SC_SIG_LEN 64

/*
 * One encoded Op.  The largest real op is a published score sheet (up to
 * SC_TEMPLATE_ITEMS_MAX items of a few hundred bytes) or a finding with a
 * long description; photos travel as blobs, never inside ops.  64 KiB holds
 * both with room, and keeps one op cheap to verify and store.
 */
#define SC_OP_MAX_BYTES (64 * 1024)
/* A SignedOp adds the signature and two length-delimited headers. */
#define SC_SIGNED_OP_MAX_BYTES (SC_OP_MAX_BYTES + 128)

/* Free text (descriptions, notes, reasons): 8 KiB is two pages of Chinese. */
#define SC_TEXT_MAX 8192
/* Names (org units, targets, people, templates). */
#define SC_NAME_MAX 256
/* Codes and logins: short identifiers typed on a tablet. */
#define SC_CODE_MAX 64
/* A MIME type. */
#define SC_MIME_MAX 128

/*
 * Heads an op may name as deps.  More concurrent heads than this on one
 * entity means many devices edited it offline at once; a resolve op that
 * names up to 16 of them at a time folds them back together.
 */
#define SC_DEPS_MAX 16
/* Photo hashes listed as evidence on one report, revisit or finding. */
#define SC_EVIDENCE_MAX 64
/* Items on one score sheet; real sheets have 10 to 30. */
#define SC_TEMPLATE_ITEMS_MAX 500
/*
 * Grade bands of a sheet (精美/达标/...), and target types of its campaign
 * rule: a handful each in every plan; 16 leaves room and bounds the checks.
 */
#define SC_TEMPLATE_GRADES_MAX 16
/* Inspectors named on one assignment. */
#define SC_ASSIGNEES_MAX 32
/*
 * Findings and photos listed by one inspection submission.  Both lists must
 * fit one op: 400 findings (id and head, 52 B each) plus 1000 photo hashes
 * (34 B each) is 55 KB, inside SC_OP_MAX_BYTES with room for the rest.
 */
#define SC_SUBMIT_FINDINGS_MAX 400
#define SC_SUBMIT_PHOTOS_MAX 1000

/*
 * Ops on one entity.  The fold keeps an n x n causality bit matrix
 * (n^2/8 bytes: 2 MiB at 4096); an inspection with 500 items, photos and
 * notes stays far below.  Beyond it ops are refused with REASON_ENTITY_FULL.
 */
#define SC_ENTITY_OPS_MAX 4096
/*
 * Item results written to one inspection over its life (scores, amendments,
 * resolves): forty full scorings of a 500-item sheet.  Every push on an
 * inspection folds all its ops again, so this, not the op count, bounds the
 * register's writer time a push can cost (syncd refuses more: entity_full).
 */
#define SC_INSPECTION_RESULTS_MAX 20000

/* Ops pushed in one sync request. */
#define SC_BATCH_OPS_MAX 1000
/*
 * A sync request body: a full batch of maximal ops would be 64 MiB, so the
 * body cap, not the op cap, bounds memory: 8 MiB is 10k typical ops.
 */
#define SC_SYNC_BODY_MAX (8 * 1024 * 1024)
/* Ops returned by one pull; the client asks again while `more` is set. */
#define SC_PULL_OPS_DEFAULT 2000
#define SC_PULL_OPS_MAX 10000
/*
 * Photo hashes one sync request may ask about (blobs_wanted): 32 KB of a
 * request, and as many stat() calls on the server, bounds what a no-op
 * sync costs however many photos a replica still lacks.
 */
#define SC_BLOBS_WANTED_MAX 1000
/*
 * Log entries one GET /v1/log/entries returns (docs/protocol.md §4.4): an
 * auditor pages through the log, and a page of maximal ops stays under
 * 70 MiB while a page of typical ones is a few hundred KB.
 */
#define SC_LOG_ENTRIES_MAX 1000
/* Other request bodies (enroll): small messages only. */
#define SC_SMALL_BODY_MAX (16 * 1024)

/* A photo blob: phone photos are 2-8 MB; 64 MiB leaves room for scans. */
#define SC_BLOB_MAX ((uint64_t)64 * 1024 * 1024)
/* One upload chunk (PUT with Content-Range). */
#define SC_BLOB_CHUNK_MAX (8 * 1024 * 1024)
/*
 * Photo uploads in progress per device, and their sizes together.  A
 * tablet uploads one photo at a time and resumes a cut one at its next
 * sync, so it rarely holds more than one; 16 leaves room for uploads given
 * up (a photo whose op was rejected), and 256 MiB is four of the largest
 * blobs.  Over either a new upload is refused (507 quota) before a byte of
 * it is written, so one device cannot fill the disk with partial uploads.
 */
#define SC_BLOB_PARTIALS_MAX      16
#define SC_BLOB_PARTIAL_BYTES_MAX ((uint64_t)256 * 1024 * 1024)
/*
 * Photos a device stored that no op it can see names.  libspotcheck pushes
 * the ops before their photos, so an honest tablet has none but those of
 * ops the server rejected; the quota bounds what one device can park in
 * the store outside every record.
 */
#define SC_BLOB_UNREFERENCED_MAX       16
#define SC_BLOB_UNREFERENCED_BYTES_MAX ((uint64_t)256 * 1024 * 1024)
/*
 * Ages (seconds).  An upload untouched for 7 days is dropped: a tablet back
 * from a week in the field starts that photo over (it keeps every photo
 * until the server has stored it).  A photo no op names is dropped 7 days
 * after a device last stored it: time for a delayed op to arrive.
 */
#define SC_BLOB_PARTIAL_AGE_S      (7 * 24 * 3600)
#define SC_BLOB_UNREFERENCED_AGE_S (7 * 24 * 3600)
/* How often syncd sweeps expired uploads and photos (seconds); it sweeps at start too. */
#define SC_BLOB_SWEEP_S 3600

/*
 * A sync answer's seal (seal.h): a nonce, five hashes, two cursors of at
 * most 64 bytes (syncd refuses longer ones), a size, a time and a flag:
 * under 400 bytes; 1 KiB leaves room for fields a later syncd adds.
 */
#define SC_SEAL_MAX 1024

/* A checkpoint note: origin, size, root, time and one signature line. */
#define SC_CHECKPOINT_NOTE_MAX 1024
/* An origin line. */
#define SC_ORIGIN_MAX 128
/* Hashes in one proof: 2 * 64 covers any tree of up to 2^64 leaves. */
#define SC_PROOF_HASHES_MAX 128
/*
 * Hashes in one batched inclusion proof (a sync's receipt, merkle.h): each
 * hash is the sibling of a node on a proven leaf's path, so k leaves need
 * at most 64 k.  A push proves at most SC_BATCH_OPS_MAX ops: 64,000 hashes,
 * 2 MiB.  A push of ops logged together needs about 2 log2(n), some forty.
 */
#define SC_MULTIPROOF_HASHES_MAX (SC_BATCH_OPS_MAX * 64)

/* ---- what one client may hold in syncd (docs/operations.md, "Limits") ---- */

/*
 * Nonces of signed requests syncd remembers, all devices together.  A nonce
 * is kept while its request's time could still pass the time check (at
 * most three clock.skew_ms windows); each costs 16 B in tables kept between
 * 3/8 and 3/4 full, so 2^20 of them are at most 43 MiB.
 */
#define SC_AUTH_NONCES_DEFAULT ((size_t)1 << 20)
/*
 * Nonces one device may have remembered at once (auth.device_nonces_max).
 * 16,384 in a 15-minute window is 18 signed requests a second sustained: a
 * tablet syncs about once a minute, and catching up (a 1,000-page pull of a
 * million-op register, a few hundred photo chunks) stays well inside it.
 * A device over it is answered 429 rate_limited until its oldest nonces
 * age out; it holds at most 1/64 of the cache, so 64 flooding devices are
 * needed to fill it.
 */
#define SC_AUTH_DEVICE_NONCES_DEFAULT 16384
/*
 * Requests every device may still make inside the window when the whole
 * cache is full (only many enrolled devices flooding at once fill it): 64
 * is a sync every 15 s.  Devices above it then get 503 overloaded, so the
 * flooders, not the quiet devices, are refused, and memory stays under
 * SC_AUTH_NONCES_DEFAULT + devices x 64 nonces.
 */
#define SC_AUTH_DEVICE_RESERVE 64

/*
 * Request bodies held in memory at once (http.body_inflight_max): sync
 * bodies and enrollments; photo chunks stream to disk and do not count.
 * Bodies are buffered only as their bytes arrive, and the declared length
 * is reserved against these caps before any of it is read, so a body that
 * does not fit is refused before it costs anything.  128 MiB is 16 full
 * sync bodies, or 256 pushes of 1,000 typical ops.
 */
#define SC_BODY_INFLIGHT_DEFAULT ((uint64_t)128 * 1024 * 1024)
/*
 * One device's bodies in flight (http.body_inflight_device_max): two full
 * sync bodies.  A client sends one request at a time; the second covers a
 * resend while its cut predecessor still holds a connection.  Only bodies
 * whose signature already verified count, so nobody but the device itself
 * can use up its share.
 */
#define SC_BODY_INFLIGHT_DEVICE_DEFAULT ((uint64_t)2 * SC_SYNC_BODY_MAX)
/*
 * Kept aside for small bodies once http.body_inflight_max is reached, so
 * that a few devices sending big bodies cannot stop everyone's syncs: a
 * device with nothing else in flight may still send a body of up to
 * SC_BODY_RESERVE_BODY_MAX (a push of a few hundred ops; a no-op sync is
 * tens of bytes) from a pool of SC_BODY_RESERVE_MAX, which takes 64 devices
 * holding such bodies at once to use up.
 */
#define SC_BODY_RESERVE_MAX ((uint64_t)16 * 1024 * 1024)
#define SC_BODY_RESERVE_BODY_MAX ((uint64_t)256 * 1024)
/*
 * Bodies read before anyone is authenticated: enrollments, the only
 * unsigned requests with a body (http.body_inflight_unverified_max).  256
 * enrollments at once is far more than an office enrolling its tablets.
 */
#define SC_BODY_INFLIGHT_UNVERIFIED_DEFAULT ((uint64_t)256 * SC_SMALL_BODY_MAX)

/* Open connections at once (http.connection_limit). */
#define SC_HTTP_CONNECTIONS_DEFAULT 4096
/*
 * Open connections from one client address (http.connections_per_address):
 * a quarter of the connection limit, so one address cannot take them all,
 * and a NAT in front of a whole district's tablets still fits.  Over it
 * the new connection is closed at once.
 */
#define SC_HTTP_CONNECTIONS_PER_ADDRESS_DEFAULT 1024
/*
 * Seconds within which a request's headers and body must have arrived
 * (http.request_timeout_s), however slowly they trickle in: the idle
 * timeout alone restarts with every byte.  libspotcheck gives up on a
 * request after 30 s.
 */
#define SC_HTTP_REQUEST_TIMEOUT_S_DEFAULT 60

/*
 * How far ahead of the server clock a signed request's time may be
 * (behind, it may be clock.skew_ms).  Clients sign with the server's time
 * (every response carries it), which lags the real one by the network's
 * delay, so they are never ahead; a client that has not heard from the
 * server yet and whose clock runs ahead is refused once, learns the time
 * and signs again.  It is short because a restarted syncd must refuse
 * everything an earlier process could have accepted, and an earlier process
 * accepted times up to this far past its last moment: syncd waits this
 * long after it starts before it listens (docs/design-changes.md), which
 * every restart pays.  A quarter of a second covers a clock kept by NTP.
 */
#define SC_REQUEST_AHEAD_MS 250

/* Default tolerated device clock lead over the server (DESIGN §3). */
#define SC_CLOCK_SKEW_MS_DEFAULT (5 * 60 * 1000)

/*
 * A pulled op's HLC further ahead of the server's clock than this is not
 * taken into the tablet's clock (rp_hlc_observe): a register logs no op
 * ahead of its clock by more than clock.skew_ms (at most 24 h), and a clock
 * that adopted one signed far in the future would stamp every later op of
 * the tablet past any honest clock, refused clock_ahead, long after the
 * server was put right.
 */
#define SC_HLC_FUTURE_MS ((int64_t)48 * 3600 * 1000)

/* A device key file (encrypted or plain). */
#define SC_KEYFILE_MAX 256

/*
 * The bearer token that opens syncd's /metrics to a scraper off the
 * loopback interface (metrics.token_file).  At least 32 characters, so it
 * cannot be guessed over the network (`openssl rand -hex 32` makes 64); at
 * most 1,024, more than any scraper sends in a header.
 */
#define SC_METRICS_TOKEN_MIN 32
#define SC_METRICS_TOKEN_MAX 1024

/*
 * The client's TLS trust (sc_net_options), kept in the replica with the
 * server's URL.
 *  - A CA bundle: Debian's whole system bundle is about 220 KB, a private
 *    CA a few KB; 1 MiB holds any real bundle and bounds what a replica
 *    stores and each request hands the TLS library.
 *  - Public key pins, "sha256//" and 44 base64 characters (52 bytes) each,
 *    separated by ';': 512 bytes hold nine, a key and its successors.
 *  - A CA directory's path: PATH_MAX on Linux.
 */
#define SC_CA_PEM_MAX (1024 * 1024)
#define SC_PIN_MAX    512
#define SC_CA_DIR_MAX 4096

/*
 * Signature checks spread over threads (core/par.h): a slice per so many
 * ops, at most SC_PAR_THREADS_MAX slices (one per online CPU at most), the
 * calling thread included.  An Ed25519 check costs ~40 us; a slice must
 * hold dozens of them to pay for starting and joining its thread.  Four
 * threads already cut a big batch to a quarter of its time, and more would
 * take cores from the other requests of a busy server.  syncd opens
 * pushed ops (decode and verify) a slice per SC_PAR_OPEN_MIN; the client,
 * which only verifies pulled ops it already decoded, a slice per
 * SC_PAR_VERIFY_MIN.
 */
#define SC_PAR_THREADS_MAX 4
#define SC_PAR_OPEN_MIN 32
#define SC_PAR_VERIFY_MIN 64

/*
 * What syncd keeps of a request's User-Agent: the app and library versions
 * (RFC 9110 product tokens, "spotcheck/0.1.0 libspotcheck/0.1.0"), shown
 * by `syncd admin device list`.  128 bytes hold a few tokens with room; a
 * longer header is cut there, and bytes that are not printable ASCII are
 * kept as '?', so nothing a device sends reaches an admin's terminal raw.
 */
#define SC_AGENT_MAX 128
/* The app's part of it (sc_client_set_app): a name and a version or two. */
#define SC_APP_NAME_MAX 64

/*
 * When devices were last seen: syncd notes every verified request in
 * memory and writes a device's sighting at most once per
 * SC_SEEN_WRITE_MS (a minute), all due devices in one transaction every
 * SC_SEEN_FLUSH_MS, so a busy device costs one small write a minute, not
 * one per request.  The table in memory holds at most SC_SEEN_DEVICES_MAX
 * devices (64 B each, 4 MiB at most), far above any deployment; only
 * enrolled devices get past authentication to be noted, and when it is
 * full, devices not in it wait for the next flush to empty it.
 */
#define SC_SEEN_WRITE_MS    (60 * 1000)
#define SC_SEEN_FLUSH_MS    (2 * 1000)
#define SC_SEEN_DEVICES_MAX 65536

/*
 * `syncd admin import`: a county office's CSV of org units, targets or
 * users.  The whole file is validated before one op is logged, and its
 * rows are logged in one transaction, so the file and its rows are held in
 * memory: 8 MiB is 40,000 rows of 200 bytes (a county's org units and
 * targets are thousands), and 20,000 rows keep one transaction's fold,
 * checkpoint and fsync to seconds.  A line is at most 20 KiB (a row is a
 * few names and an address, which may take 8 KiB, twice that quoted with
 * every quote doubled), and a row at most 16 fields.
 */
#define SC_IMPORT_BYTES_MAX  (8 * 1024 * 1024)
#define SC_IMPORT_ROWS_MAX   20000
#define SC_IMPORT_LINE_MAX   (20 * 1024)
#define SC_IMPORT_FIELDS_MAX 16

/*
 * `syncd backup` copies the register this many pages (of 4 KiB) at a time,
 * all in one read transaction (store.h, sd_store_sqlite_backup): 4 MiB a
 * step, so a register of a gigabyte reports progress 256 times and the
 * copy costs one call per 4 MiB, not one per page.
 */
#define SC_BACKUP_STEP_PAGES 1024

/*
 * The PostgreSQL register (syncd/store/store_pg.c).  SC_STORE_URL_MAX: the
 * longest URL `syncd init --store` takes (a libpq URL with host, user,
 * password, database and a few parameters is well under 200 bytes; the
 * bound keeps it a fixed buffer).  SC_PG_FETCH_ROWS: rows a scan's cursor
 * fetches at a time: a pull or an audit holds at most this many rows (signed
 * ops of up to SC_SIGNED_OP_MAX_BYTES each) in memory, and 256 makes the round trips
 * a small part of reading them.  SC_PG_LOCK_WAIT_MS: how long a write
 * transaction waits for the register's write lock before it fails (as
 * SQLite's busy timeout: syncd admin and every syncd serve wait for each
 * other's group commits, the longest of which takes well under a second).
 */
#define SC_STORE_URL_MAX   1024
#define SC_PG_FETCH_ROWS   256
#define SC_PG_LOCK_WAIT_MS 10000
/*
 * A line of a backup's manifest (syncd/cmd/backup.h): the longest is the
 * origin line (SC_ORIGIN_MAX) or a mark line (two names of 64 hex digits
 * and a time); 512 bytes hold either with room, and a restore refuses a
 * longer line rather than read an unbounded one.
 */
#define SC_BACKUP_LINE_MAX 512

/*
 * syncd's trusted proxies (http.trusted_proxies, syncd/base/netaddr.h): a
 * front is one or two proxies, a load balancer pool a few addresses or one
 * prefix; 32 entries hold any real setup and keep the check a short loop.
 * The X-Forwarded-For headers of one request read, the last ones: a proxy
 * chain adds one value per hop that does not merge them, and a client may
 * add more, which only the right-most values matter against.
 */
#define SC_TRUSTED_PROXIES_MAX   32
#define SC_FORWARDED_HEADERS_MAX 8

/*
 * Rectification governance (core/governance.h).
 *  - Periods of the register's policy (OrgPolicy), in days: 1 to 3650.  A
 *    period of 0 would flag everything on the day it is issued, and ten
 *    years is past any campaign the plans describe.
 *  - Org units walked up to find a policy, or to decide whether a user's
 *    unit is above another: the hierarchy 市 → 户 has nine levels (DOMAIN.md
 *    §6); 64 leaves room for work groups and project chains, and bounds a
 *    walk over a damaged tree.
 *  - A plan's funds, in hundredths of the currency unit: 10^15 is ten
 *    trillion yuan, past any budget, and far from int64's end, so sums
 *    over many plans cannot overflow.
 *  - A phone number as people write it, with a country code, spaces and an
 *    extension: 32 bytes.
 *  - Extension requests one finding may make: a deadline moved 32 times is
 *    no deadline, and the fold's rules about extensions cost each request
 *    the decisions before it, so one finding cannot make them quadratic.
 */
#define SC_GOV_DAYS_MIN   1
#define SC_GOV_DAYS_MAX   3650
#define SC_ORG_DEPTH_MAX  64
#define SC_GOV_FUNDS_MAX  INT64_C(1000000000000000)
#define SC_PHONE_MAX      32
#define SC_GOV_EXTENSIONS_MAX 32

/*
 * Escalation, stop-work and look-backs (docs/data-model.md §4.3).
 *  - Rungs of an escalation ladder (OrgPolicy.ladder): one per step, and
 *    the steps strictly rise, so five.
 *  - Escalations of one finding: the seeds' ladder has five steps, and a
 *    unit interviewed again and again is still one finding; 32 records
 *    every step several times over, and bounds what one supervisor's
 *    device can pile on a finding the responsible unit must read.
 *  - Stop-work orders on one finding: an order stays until a revisit
 *    lifts it, and judging a lift or a closure looks at each order in its
 *    past; 16 is more orders than any site is stopped in one rectification.
 *  - Findings one look-back round (an assignment) re-checks: "累计发现问题
 *    200余个" (002 L117) is a district's whole campaign; 256 holds it, and
 *    bounds what syncd looks up to accept one assignment.
 */
#define SC_GOV_LADDER_MAX      5
#define SC_GOV_ESCALATIONS_MAX 32
#define SC_GOV_STOP_WORK_MAX   16
#define SC_RECHECKS_MAX        256
/*
 * Targets whose policy a read pass over every finding remembers (a review
 * queue, a list): a street's compounds, shops and schools are tens; past
 * 256 the rest are walked each time, as before, and 256 policies are some
 * 40 KiB for the length of one call.
 */
#define SC_GOV_MEMO_TARGETS 256
/*
 * Self-checks one spot check verifies (督促检查 of 自查): the units of one
 * target self-check a few times a campaign stage (004 L23: 3/23 to the end
 * of March), so 64 is more than a round ever names.
 */
#define SC_VERIFIES_MAX 64
/*
 * Sign-offs and countersigns of one inspection (共同签字确认): the plans
 * have the inspected unit's representative sign, and at a joint check a
 * few parties (the unit, its property company, the community); 16 holds a
 * joint check's every party twice, and bounds what one device can pile on
 * a record everyone who sees it reads.
 */
#define SC_SIGN_OFFS_MAX 16

/*
 * Inspections a ledger keeps at hand while it writes findings: a finding
 * row names its check's kind and disclosure, and a register's findings come
 * in id order, those of one check made together by one tablet while others
 * make theirs; 256 slots hold the checks of 256 tablets' work at once, a
 * few hundred KiB, whatever the ledger's length.
 */
#define SC_LEDGER_INSPECTIONS 256

/*
 * The review console (spotcheck console, client-lib/console/).  It serves
 * one person on this machine, so its bounds are small: a request body is a
 * form's few fields (a reason, a note: SC_TEXT_MAX each) and 64 KiB holds
 * several; 16 connections are a browser's six per host with room; a
 * request must arrive within 30 s, so a stalled connection does not hold a
 * slot.  Its outbox view lists the latest 50 proven ops (a morning's
 * work), and a plan names at most 32 inspectors, as sc_assign takes them.
 * The ledger view sends one page of rows at a time, at most 200 (a
 * screen's few dozen with room), so a ledger of any length costs the page
 * the same.  A dashboard chart has at most 400 buckets: a year by day (366)
 * with room; a longer window is asked for by week or month.
 */
#define SC_CONSOLE_BODY_MAX (64 * 1024)
#define SC_CONSOLE_CONNECTIONS 16
#define SC_CONSOLE_TIMEOUT_S 30
#define SC_CONSOLE_PROVEN_SHOWN 50
#define SC_CONSOLE_INSPECTORS_MAX 32
#define SC_CONSOLE_LEDGER_ROWS_MAX 200
#define SC_CONSOLE_CHART_BUCKETS_MAX 400

/*
 * Webhooks (syncd/notify, docs/operations.md "Webhooks").
 *  - Hooks configured at once: a register sends to its own dispatcher, a
 *    chat bridge and perhaps a second site; 8 is more than any deployment
 *    names, and bounds the rows one event makes (one per hook).
 *  - A hook's name: a short word for the log and the settings' keys.
 *  - A hook's URL: an http(s) URL of a receiver the operator runs; 1,024
 *    bytes is far more than a host, port and path need.
 *  - Its secret: like the metrics token, 32 to 1,024 printable characters
 *    (`openssl rand -hex 32` makes 64), so it cannot be guessed.
 *  - The queue: deliveries waiting (pending) for each hook at most
 *    SC_NOTIFY_QUEUE_DEFAULT (notify.queue_max).  Each hook's own, so a
 *    receiver that is down never drops another hook's events.  An event
 *    that finds its hook's queue full is recorded as dropped, not sent, counted (syncd_webhook_dropped_total), and
 *    `syncd notify retry --dropped` queues it again: a receiver down for
 *    days must not grow the register without bound, and an op is never
 *    refused because a receiver is down.  100,000 rows of at most
 *    SC_NOTIFY_BODY_MAX bytes is at most 200 MB of register per hook
 *    (SC_NOTIFY_HOOKS_MAX of them).
 *  - A payload: ids, a type, a time and a few short fields; 2 KiB holds it.
 *  - Attempts before a delivery is dead: with the default backoff (2 s
 *    doubling up to an hour) 16 attempts cover about half a day.
 *  - Deliveries claimed at once: a hook's thread claims one, since every
 *    attempt must end inside its claim's lease (syncd/notify/notify.c);
 *    the deliveries of hooks no longer configured, marked dead without an
 *    attempt, are claimed 32 at a time, which keeps the write lock short.
 */
#define SC_NOTIFY_HOOKS_MAX         8
#define SC_NOTIFY_HOOK_NAME_MAX     32
#define SC_NOTIFY_URL_MAX           1024
#define SC_NOTIFY_SECRET_MIN        32
#define SC_NOTIFY_SECRET_MAX        1024
#define SC_NOTIFY_QUEUE_DEFAULT     100000
#define SC_NOTIFY_BODY_MAX          2048
#define SC_NOTIFY_ATTEMPTS_DEFAULT  16
#define SC_NOTIFY_RETRY_BASE_MS_DEFAULT 2000
#define SC_NOTIFY_RETRY_MAX_S_DEFAULT   3600
#define SC_NOTIFY_TIMEOUT_S_DEFAULT     10
#define SC_NOTIFY_SCAN_S_DEFAULT        60
#define SC_NOTIFY_CLAIM_MAX         32
/*
 * Each hook's delivering thread looks for due deliveries (a read) every
 * SC_NOTIFY_POLL_MS when it found none: an event reaches its receiver
 * within half a second of its commit, and an idle syncd runs two small
 * reads a second per hook, and no write.  A
 * claimed delivery is held for notify.timeout_s plus SC_NOTIFY_LEASE_MARGIN_MS
 * (the attempt, recording its outcome, and the clocks of other syncd on a
 * PostgreSQL register); a syncd that dies holding it leaves it to be
 * claimed again after that.
 */
#define SC_NOTIFY_POLL_MS           500
#define SC_NOTIFY_LEASE_MARGIN_MS   10000
/* A delivery's last error as the log keeps it (curl's message or the answer's status line). */
#define SC_NOTIFY_ERROR_MAX         200

#endif
