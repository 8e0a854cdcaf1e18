/*
 * test_seen.c: devices last seen (syncd/sync/seen.c): what is due when,
 * that a device is written at most once per interval however often it
 * comes, that a full table makes room only from what is already written,
 * that a failed write is due again, and that notes from many threads at
 * once all land.
 */
#include <check.h>
#include <pthread.h>
#include <string.h>

#include "sctest.h"
#include "sync/seen.h"

#define MIN 60000

static void key_of(unsigned n, uint8_t key[SC_KEY_LEN])
{
    memset(key, 0, SC_KEY_LEN);
    memcpy(key, &n, sizeof n);
    key[SC_KEY_LEN - 1] = 0x5a;
}

START_TEST(due_once_per_interval)
{
    sd_seen *s = NULL;
    ck_assert_int_eq(sd_seen_new(0, MIN, &s), SC_OK);
    uint8_t k[SC_KEY_LEN];
    key_of(1, k);
    sd_seen_row rows[8];
    ck_assert_uint_eq(sd_seen_take(s, 1000, false, rows, 8), 0);
    /* First sighting: due at once. */
    sd_seen_note(s, k, "a/1", 1000);
    ck_assert_uint_eq(sd_seen_take(s, 1000, false, rows, 8), 1);
    ck_assert_int_eq(rows[0].seen_ms, 1000);
    ck_assert_str_eq(rows[0].agent, "a/1");
    /* A thousand requests in the next minute: nothing due until a minute after the write. */
    for (int i = 1; i <= 1000; i++)
        sd_seen_note(s, k, "a/2", 1000 + i * 50);
    ck_assert_uint_eq(sd_seen_take(s, 1000 + MIN - 1, false, rows, 8), 0);
    ck_assert_uint_eq(sd_seen_take(s, 1000 + MIN, false, rows, 8), 1);
    ck_assert_int_eq(rows[0].seen_ms, 1000 + 1000 * 50);
    ck_assert_str_eq(rows[0].agent, "a/2");
    /* Nothing new: nothing due, even at the end. */
    ck_assert_uint_eq(sd_seen_take(s, 10 * MIN, true, rows, 8), 0);
    /* At the end, whatever was noted is taken at once. */
    sd_seen_note(s, k, NULL, 1000 + MIN + 1);
    ck_assert_uint_eq(sd_seen_take(s, 1000 + MIN + 2, true, rows, 8), 1);
    ck_assert_str_eq(rows[0].agent, "");
    /* An older time never replaces a newer one (requests signed a little in the past). */
    sd_seen_note(s, k, "a/3", 5);
    ck_assert_uint_eq(sd_seen_take(s, 20 * MIN, false, rows, 8), 1);
    ck_assert_int_eq(rows[0].seen_ms, 1000 + MIN + 1);
    sd_seen_free(s);
}
END_TEST

START_TEST(full_table_makes_room_from_what_is_written)
{
    sd_seen *s = NULL;
    ck_assert_int_eq(sd_seen_new(4, MIN, &s), SC_OK);
    uint8_t k[SC_KEY_LEN];
    sd_seen_row rows[8];
    for (unsigned i = 0; i < 4; i++) {
        key_of(i, k);
        sd_seen_note(s, k, "x", 100);
    }
    ck_assert_uint_eq(sd_seen_count(s), 4);
    /* Full, and none written yet: a fifth device is not noted (it comes again). */
    key_of(4, k);
    sd_seen_note(s, k, "x", 200);
    ck_assert_uint_eq(sd_seen_count(s), 4);
    ck_assert_uint_eq(sd_seen_take(s, 300, false, rows, 8), 4);
    /* Written: the fifth takes a written one's place, and is due. */
    sd_seen_note(s, k, "y", 400);
    ck_assert_uint_eq(sd_seen_count(s), 4);
    ck_assert_uint_eq(sd_seen_take(s, 500, false, rows, 8), 1);
    ck_assert_int_eq(rows[0].seen_ms, 400);
    /* Every device still left is found again (the table stays consistent after the move). */
    unsigned found = 0;
    for (unsigned i = 0; i < 5; i++) {
        key_of(i, k);
        sd_seen_note(s, k, "z", 1000);
    }
    found = (unsigned)sd_seen_take(s, 1000 + MIN, false, rows, 8);
    ck_assert_uint_eq(found, 4);
    ck_assert_uint_eq(sd_seen_count(s), 4);
    sd_seen_free(s);
}
END_TEST

START_TEST(failed_write_is_due_again)
{
    sd_seen *s = NULL;
    ck_assert_int_eq(sd_seen_new(0, MIN, &s), SC_OK);
    uint8_t k[SC_KEY_LEN];
    key_of(7, k);
    sd_seen_row rows[2];
    sd_seen_note(s, k, "v/1", 100);
    ck_assert_uint_eq(sd_seen_take(s, 200, false, rows, 2), 1);
    sd_seen_retry(s, rows, 1);
    ck_assert_uint_eq(sd_seen_take(s, 300, false, rows, 2), 1);
    ck_assert_int_eq(rows[0].seen_ms, 100);
    sd_seen_free(s);
}
END_TEST

typedef struct worker {
    sd_seen *s;
    unsigned base;
} worker;

static void *note_many(void *arg)
{
    worker *w = arg;
    uint8_t k[SC_KEY_LEN];
    for (unsigned r = 0; r < 20; r++)
        for (unsigned i = 0; i < 100; i++) {
            key_of(w->base + i, k);
            sd_seen_note(w->s, k, "t", (int64_t)r);
        }
    return NULL;
}

START_TEST(notes_from_many_threads)
{
    sd_seen *s = NULL;
    ck_assert_int_eq(sd_seen_new(0, MIN, &s), SC_OK);
    pthread_t t[4];
    worker w[4];
    for (unsigned i = 0; i < 4; i++) {
        w[i] = (worker){s, i * 100};
        ck_assert_int_eq(pthread_create(&t[i], NULL, note_many, &w[i]), 0);
    }
    for (unsigned i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    ck_assert_uint_eq(sd_seen_count(s), 400);
    static sd_seen_row rows[256];
    size_t total = 0, n;
    while ((n = sd_seen_take(s, 1, true, rows, 256)) > 0)
        total += n;
    ck_assert_uint_eq(total, 400);
    sd_seen_free(s);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("syncd/seen");
    const sct_case cases[] = {
        {"due_once_per_interval", due_once_per_interval},
        {"full_table", full_table_makes_room_from_what_is_written},
        {"failed_write", failed_write_is_due_again},
        {"threads", notes_from_many_threads},
    };
    sct_suite_add(s, cases, SCT_COUNT(cases), NULL);
    return s;
}

int main(void)
{
    return sct_run(suite());
}
