"""The Python binding against a real syncd (run by bindings/python/test.sh).

Environment: SPOTCHECK_LIB (the libspotcheck.so.0 of this build), SC_URL
(a syncd serving a register made by scripts/make-register.sh), SC_CODE (an
enrollment code for an inspector), SC_TMP (a directory of its own),
SC_SCHEMA_DIR (docs/schema).

It enrolls, records an inspection with a finding and its photo, syncs with
a progress callback, cancels a sync, reads through a read-only handle while
a sync runs, and checks every JSON answer against its schema.
"""

import os
import sys
import threading
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import schema  # noqa: E402
import spotcheck  # noqa: E402
from spotcheck import Mode, SpotcheckError  # noqa: E402

TMP = os.environ["SC_TMP"]
URL = os.environ["SC_URL"]
CODE = os.environ["SC_CODE"]
SCHEMAS = schema.load_dir(os.environ["SC_SCHEMA_DIR"])
PASS = "binding passphrase"
DB = os.path.join(TMP, "py.db")


def photo(name, size):
    """A JPEG-looking file of size bytes (its magic first), random beyond."""
    path = os.path.join(TMP, name)
    with open(path, "wb") as f:
        f.write(b"\xff\xd8\xff\xe0" + os.urandom(size - 4))
    return path


def conforms(test, name, value):
    errors = schema.validate(SCHEMAS[name], value)
    test.assertEqual(errors, [], "%s does not match docs/schema/%s.json" % (value, name))


class Binding(unittest.TestCase):
    lib = None

    @classmethod
    def setUpClass(cls):
        cls.lib = spotcheck.Library()

    def test_0_schemas_refuse_other_shapes(self):
        """The schema check can fail: a field missing, one undocumented, one of another type."""
        good = {"ok": True, "ops": 1, "entities": 1, "checkpoints": 1, "receipts": 0,
                "unproven": 0, "errors": []}
        self.assertEqual(schema.validate(SCHEMAS["verify"], good), [])
        self.assertTrue(schema.validate(SCHEMAS["verify"], {k: v for k, v in good.items()
                                                            if k != "ops"}))
        self.assertTrue(schema.validate(SCHEMAS["verify"], dict(good, extra=1)))
        self.assertTrue(schema.validate(SCHEMAS["verify"], dict(good, ops="1")))
        self.assertTrue(schema.validate(SCHEMAS["enroll"], {"device_key": "XYZ"}))
        for name, s in SCHEMAS.items():
            self.assertEqual(s["version"], 1, name)

    def test_1_enroll_record_sync(self):
        lib = self.lib
        self.assertEqual(lib.version().count("."), 2)
        # A missing replica is an error that names it, not an empty replica.
        with self.assertRaises(SpotcheckError) as e:
            lib.open(DB, Mode.EXISTING)
        self.assertEqual(e.exception.name, "SC_ERR_NOT_FOUND")
        self.assertIn(DB, e.exception.message)
        with lib.open(DB, Mode.ENROLL) as c:
            # No keeper for the key: refused, naming the choices, and the code is not spent.
            with self.assertRaises(SpotcheckError) as e:
                c.enroll(URL, CODE)
            self.assertEqual(e.exception.name, "SC_ERR_INVALID_ARG")
            self.assertIn("SC_ENROLL_PLAIN_KEY", e.exception.message)
            enrolled = c.enroll(URL, CODE, label="python tablet", passphrase=PASS)
            conforms(self, "enroll", enrolled)
            self.assertEqual(enrolled["key"], "passphrase")
            self.assertEqual(enrolled["login"], "inspector")
            conforms(self, "sync", c.sync())  # targets and score sheets

            check = c.check_open("T-JAHY", "spot", "unannounced", template="no-epidemic-100")
            finding = c.finding_add("门岗未测温", "general", check=check, deadline="2026-12-20",
                                    photos=[photo("evidence.jpg", 4096)])
            c.check_submit(check)
            status = c.status()
            conforms(self, "status", status)
            self.assertEqual(status["photos_pending_upload"], 1)

            events = []
            report = c.sync(progress=lambda phase, done, total: events.append((phase, done, total)))
            conforms(self, "sync", report)
            self.assertEqual(report["rejected"], [])
            self.assertEqual(report["accepted"], status["outbox"])
            self.assertEqual(report["photos_uploaded"], 1)
            phases = {p for p, _, _ in events}
            self.assertIn("push", phases)
            self.assertIn("upload", phases)
            self.assertEqual(c.status()["outbox"], 0)

            shown = c.show(finding)
            conforms(self, "show", shown)
            self.assertEqual(shown["description"], "门岗未测温")
            self.assertEqual(len(shown["photos"]), 1)
            self.assertTrue(all(h["log_index"] is not None for h in shown["history"]))
            listed = c.list("findings")
            conforms(self, "list_findings", listed)
            self.assertEqual([i["id"] for i in listed["items"]], [finding])
            conforms(self, "list_checks", c.list("checks"))
            conforms(self, "outbox", c.outbox())
            verified = c.verify()
            conforms(self, "verify", verified)
            self.assertTrue(verified["ok"])

    def test_2_cancel_a_sync(self):
        with self.lib.open(DB, Mode.EXISTING) as c:
            c.unlock(PASS)
            finding = c.list("findings")["items"][0]["id"]
            c.photo_add(finding, photo("big.jpg", 3 << 20), caption="全景")
            before = c.status()
            seen = []

            def stop_at_upload(phase, done, total):
                seen.append(phase)
                return 1 if phase == "upload" else 0

            with self.assertRaises(SpotcheckError) as e:
                c.sync(progress=stop_at_upload)
            self.assertEqual(e.exception.name, "SC_ERR_CANCELLED")
            self.assertIn("upload", seen)
            after = c.status()
            # The photo stays to upload; the op that named it went up before the upload began.
            self.assertEqual(after["photos_pending_upload"], 1)
            self.assertEqual(after["outbox"], 0)
            self.assertEqual(after["ops"], before["ops"])
            # An exception in the callback stops the sync too, and reaches the caller.
            with self.assertRaises(ZeroDivisionError):
                c.sync(progress=lambda phase, done, total: 1 // 0)
            self.assertEqual(c.status()["photos_pending_upload"], 1)

    def test_3_read_only_handle_while_a_sync_runs(self):
        """The UI reads through its own handle, in its own thread, while the writer uploads."""
        writer = self.lib.open(DB, Mode.EXISTING)
        writer.unlock(PASS)
        reader = self.lib.open(DB, Mode.READONLY)
        uploading, read_done = threading.Event(), threading.Event()
        result = {}

        def progress(phase, done, total):
            if phase == "upload" and not uploading.is_set():
                uploading.set()
                # Hold the sync here until the UI has read: the reads happen mid-sync.
                if not read_done.wait(60):
                    return 1
            return 0

        def run():
            try:
                result["report"] = writer.sync(progress=progress)
            except SpotcheckError as e:
                result["error"] = e

        t = threading.Thread(target=run)
        t.start()
        self.assertTrue(uploading.wait(60), "the sync never began its upload")
        status = reader.status()  # while the writer's sync waits in its upload
        findings = reader.list("findings")
        shown = reader.show(findings["items"][0]["id"])
        read_done.set()
        t.join(120)
        self.assertFalse(t.is_alive())
        self.assertNotIn("error", result, result.get("error"))
        conforms(self, "status", status)
        self.assertEqual(status["photos_pending_upload"], 1)
        self.assertEqual(len(shown["photos"]), 2)
        self.assertEqual(result["report"]["photos_uploaded"], 1)
        # The reader refuses to write, naming the writer.
        with self.assertRaises(SpotcheckError) as e:
            reader.sync()
        self.assertEqual(e.exception.name, "SC_ERR_READ_ONLY")
        self.assertEqual(reader.status()["photos_pending_upload"], 0)
        reader.close()
        writer.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
