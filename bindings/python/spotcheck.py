"""spotcheck: libspotcheck from Python, through ctypes.

A small binding that shows the C API can be reached from another language
with nothing but the platform's FFI: no generated code, no compiler.  It
covers what an app needs to record and sync; every other call of
spotcheck.h is reached the same way.  The JSON the library returns is
parsed with the json module; its shapes are in docs/schema/.

    lib = Library()                        # libspotcheck.so.0, or $SPOTCHECK_LIB
    c = lib.open("tablet.db", Mode.ENROLL)
    c.enroll(url, code, passphrase="...")
    c.sync(progress=lambda phase, done, total: 0)

Errors raise SpotcheckError with the status, its name, the handle's message
and the protocol reason.  A handle is used by one thread at a time, as the
C API says; ctypes lets go of the GIL while a call runs, so other Python
threads (a UI reading through a read-only handle) go on meanwhile.
"""

import ctypes
import ctypes.util
import enum
import json
import os

SIZE_T = ctypes.c_size_t
STR = ctypes.c_char_p


class Mode(enum.IntEnum):
    """sc_open_mode."""

    EXISTING = 1
    ENROLL = 2
    CREATE = 3
    READONLY = 4


ENROLL_PLAIN_KEY = 0x1
ID_HEX_LEN = 33
HASH_HEX_LEN = 65


class SpotcheckError(Exception):
    """A call that did not return SC_OK."""

    def __init__(self, call, status, name, message, reason):
        super().__init__("%s: %s (%s)%s" % (call, message, name, " [%s]" % reason if reason else ""))
        self.call, self.status, self.name, self.message, self.reason = (
            call, status, name, message, reason)


# ---- the structs of spotcheck.h, field for field ----

class _ClientOptions(ctypes.Structure):
    _fields_ = [("alloc", ctypes.c_void_p), ("realloc", ctypes.c_void_p),
                ("free", ctypes.c_void_p), ("now_ms", ctypes.c_void_p),
                ("random", ctypes.c_void_p), ("sleep_ms", ctypes.c_void_p),
                ("ctx", ctypes.c_void_p), ("timeout_ms", ctypes.c_uint32),
                ("retries", ctypes.c_uint32), ("backoff_ms", ctypes.c_uint32),
                ("batch_ops", ctypes.c_uint32), ("chunk_bytes", ctypes.c_uint32),
                ("kdf_opslimit", ctypes.c_uint64), ("kdf_memlimit", ctypes.c_uint64)]


class _OpenOptions(ctypes.Structure):
    _fields_ = [("size", SIZE_T), ("mode", ctypes.c_int), ("client", _ClientOptions),
                ("busy_ms", ctypes.c_uint32)]


class _EnrollParams(ctypes.Structure):
    _fields_ = [("size", SIZE_T), ("server_url", STR), ("code", STR), ("label", STR),
                ("pass_", STR), ("pass_len", SIZE_T), ("flags", ctypes.c_uint)]


class _CheckParams(ctypes.Structure):
    _fields_ = [("size", SIZE_T), ("target", STR), ("kind", STR), ("disclosure", STR),
                ("relation", STR), ("template_", STR), ("assignment", STR)]


class _FindingParams(ctypes.Structure):
    _fields_ = [("size", SIZE_T), ("check", STR), ("target", STR), ("description", STR),
                ("grade", STR), ("category", STR), ("item", STR), ("location", STR),
                ("deadline", STR), ("responsible", STR), ("source", STR),
                ("fixed_on_spot", ctypes.c_int), ("photos", ctypes.POINTER(STR)),
                ("n_photos", SIZE_T)]


class _Filter(ctypes.Structure):
    _fields_ = [("size", SIZE_T), ("status", STR), ("overdue", ctypes.c_int),
                ("target", STR), ("assignment", STR), ("flags", ctypes.c_uint)]


PROGRESS = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_uint64,
                            ctypes.c_uint64)


def _b(s):
    return None if s is None else s.encode("utf-8")


class Library:
    """The loaded libspotcheck.so and the signatures of the calls used here."""

    def __init__(self, path=None):
        path = path or os.environ.get("SPOTCHECK_LIB") or ctypes.util.find_library("spotcheck")
        if not path:
            raise OSError("libspotcheck not found: set SPOTCHECK_LIB to libspotcheck.so.0")
        self.dll = ctypes.CDLL(path)
        d = self.dll
        h = ctypes.c_void_p
        out_json = ctypes.POINTER(ctypes.c_void_p)
        sigs = {
            "sc_version": (STR, []),
            "sc_version_number": (ctypes.c_uint, []),
            "sc_global_init": (ctypes.c_int, []),
            "sc_status_name": (STR, [ctypes.c_int]),
            "sc_client_open_v3": (ctypes.c_int, [STR, ctypes.POINTER(_OpenOptions),
                                                 ctypes.POINTER(h), ctypes.c_char_p, SIZE_T]),
            "sc_client_close": (None, [h]),
            "sc_client_errmsg": (STR, [h]),
            "sc_client_reason": (STR, [h]),
            "sc_json_free": (None, [h, ctypes.c_void_p]),
            "sc_client_unlock": (ctypes.c_int, [h, STR, SIZE_T]),
            "sc_client_interrupt": (None, [h]),
            "sc_enroll_v2": (ctypes.c_int, [h, ctypes.POINTER(_EnrollParams), out_json]),
            "sc_client_status": (ctypes.c_int, [h, out_json]),
            "sc_check_open_v2": (ctypes.c_int, [h, ctypes.POINTER(_CheckParams), ctypes.c_char_p]),
            "sc_check_submit": (ctypes.c_int, [h, STR, STR]),
            "sc_finding_add_v2": (ctypes.c_int, [h, ctypes.POINTER(_FindingParams),
                                                 ctypes.c_char_p]),
            "sc_photo_add": (ctypes.c_int, [h, STR, STR, STR, ctypes.c_char_p]),
            "sc_sync_v2": (ctypes.c_int, [h, PROGRESS, ctypes.c_void_p, out_json]),
            "sc_list_v3": (ctypes.c_int, [h, STR, ctypes.POINTER(_Filter), out_json]),
            "sc_show": (ctypes.c_int, [h, STR, out_json]),
            "sc_outbox": (ctypes.c_int, [h, SIZE_T, out_json]),
            "sc_verify_replica": (ctypes.c_int, [h, out_json]),
        }
        for name, (res, args) in sigs.items():
            fn = getattr(d, name)
            fn.restype, fn.argtypes = res, args
        if d.sc_global_init() != 0:
            raise OSError("sc_global_init failed")

    def version(self):
        return d_str(self.dll.sc_version())

    def status_name(self, status):
        return d_str(self.dll.sc_status_name(status))

    def open(self, path, mode=Mode.EXISTING, busy_ms=0):
        """sc_client_open_v3: a Client, or SpotcheckError with the message."""
        opt = _OpenOptions(size=ctypes.sizeof(_OpenOptions), mode=int(mode), busy_ms=busy_ms)
        handle = ctypes.c_void_p()
        err = ctypes.create_string_buffer(512)
        s = self.dll.sc_client_open_v3(_b(path), ctypes.byref(opt), ctypes.byref(handle), err,
                                       len(err))
        if s != 0:
            raise SpotcheckError("sc_client_open_v3", s, self.status_name(s),
                                 err.value.decode("utf-8", "replace"), "")
        return Client(self, handle)


def d_str(b):
    return b.decode("utf-8") if b is not None else None


class Client:
    """One sc_client handle: closed by close() or on leaving a with block."""

    def __init__(self, lib, handle):
        self.lib, self.dll, self.h = lib, lib.dll, handle

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        if self.h:
            self.dll.sc_client_close(self.h)
            self.h = None

    def _check(self, call, status):
        if status != 0:
            raise SpotcheckError(call, status, self.lib.status_name(status),
                                 d_str(self.dll.sc_client_errmsg(self.h)),
                                 d_str(self.dll.sc_client_reason(self.h)))

    def _json_call(self, call, fn, *args):
        out = ctypes.c_void_p()
        s = fn(self.h, *args, ctypes.byref(out))
        try:
            text = ctypes.string_at(out.value).decode("utf-8") if out.value else None
        finally:
            self.dll.sc_json_free(self.h, out)
        self._check(call, s)
        return json.loads(text) if text is not None else None

    def interrupt(self):
        """sc_client_interrupt: safe from any thread while another uses the handle."""
        self.dll.sc_client_interrupt(self.h)

    def unlock(self, passphrase):
        p = _b(passphrase)
        self._check("sc_client_unlock", self.dll.sc_client_unlock(self.h, p, len(p)))

    def enroll(self, server_url, code, label=None, passphrase=None, plain_key=False):
        """sc_enroll_v2: the key under passphrase, or plain only when plain_key says so."""
        p = _b(passphrase)
        params = _EnrollParams(size=ctypes.sizeof(_EnrollParams), server_url=_b(server_url),
                               code=_b(code), label=_b(label), pass_=p,
                               pass_len=len(p) if p else 0,
                               flags=ENROLL_PLAIN_KEY if plain_key else 0)
        return self._json_call("sc_enroll_v2", self.dll.sc_enroll_v2, ctypes.byref(params))

    def status(self):
        return self._json_call("sc_client_status", self.dll.sc_client_status)

    def check_open(self, target, kind, disclosure, template=None, relation=None,
                   assignment=None):
        params = _CheckParams(size=ctypes.sizeof(_CheckParams), target=_b(target),
                              kind=_b(kind), disclosure=_b(disclosure), relation=_b(relation),
                              template_=_b(template), assignment=_b(assignment))
        out = ctypes.create_string_buffer(ID_HEX_LEN)
        self._check("sc_check_open_v2", self.dll.sc_check_open_v2(self.h, ctypes.byref(params),
                                                                  out))
        return out.value.decode()

    def check_submit(self, check, remarks=None):
        self._check("sc_check_submit", self.dll.sc_check_submit(self.h, _b(check), _b(remarks)))

    def finding_add(self, description, grade, check=None, target=None, deadline=None,
                    responsible=None, source=None, category=None, item=None, location=None,
                    fixed_on_spot=False, photos=()):
        paths = (STR * max(len(photos), 1))(*[_b(p) for p in photos])
        params = _FindingParams(size=ctypes.sizeof(_FindingParams), check=_b(check),
                                target=_b(target), description=_b(description),
                                grade=_b(grade), category=_b(category), item=_b(item),
                                location=_b(location), deadline=_b(deadline),
                                responsible=_b(responsible), source=_b(source),
                                fixed_on_spot=1 if fixed_on_spot else 0,
                                photos=paths if photos else None, n_photos=len(photos))
        out = ctypes.create_string_buffer(ID_HEX_LEN)
        self._check("sc_finding_add_v2",
                    self.dll.sc_finding_add_v2(self.h, ctypes.byref(params), out))
        return out.value.decode()

    def photo_add(self, entity, path, caption=None):
        out = ctypes.create_string_buffer(HASH_HEX_LEN)
        self._check("sc_photo_add", self.dll.sc_photo_add(self.h, _b(entity), _b(path),
                                                          _b(caption), out))
        return out.value.decode()

    def sync(self, progress=None):
        """sc_sync_v2: the report.  progress(phase, done, total) -> nonzero cancels the sync."""
        error = []

        def trampoline(ctx, phase, done, total):
            try:
                return int(progress(phase.decode(), done, total) or 0)
            except BaseException as e:  # never unwind through C: stop the sync, raise after
                error.append(e)
                return 1

        cb = PROGRESS(trampoline) if progress else PROGRESS()
        try:
            return self._json_call("sc_sync_v2", self.dll.sc_sync_v2, cb, None)
        finally:
            if error:
                raise error[0]

    def list(self, what, status=None, overdue=False, target=None, flags=0):
        f = _Filter(size=ctypes.sizeof(_Filter), status=_b(status), overdue=int(overdue),
                    target=_b(target), flags=flags)
        return self._json_call("sc_list_v3", self.dll.sc_list_v3, _b(what), ctypes.byref(f))

    def show(self, entity):
        return self._json_call("sc_show", self.dll.sc_show, _b(entity))

    def outbox(self, proven_max=0):
        return self._json_call("sc_outbox", self.dll.sc_outbox, proven_max)

    def verify(self):
        return self._json_call("sc_verify_replica", self.dll.sc_verify_replica)
