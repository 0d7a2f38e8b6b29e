/*
 * store_sqlite_int: what the SQLite store's files share (not a public
 * interface: everything outside src/store/ uses store.h). The helpers
 * expect st->mu held where they touch st->db.
 */
#ifndef HM_STORE_SQLITE_INT_H
#define HM_STORE_SQLITE_INT_H
#include <pthread.h>
#include <sqlite3.h>
#include <stddef.h>
#include "store/store.h"

struct store {
	sqlite3 *db;
	pthread_mutex_t mu;   /* recursive: list callbacks may call the store */
};

/* err (may be NULL) <- formatted one-line message. */
void sq_seterr(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* err <- the connection's last error; returns STORE_EFAIL. */
int sq_dberr(struct store *st, char *err, size_t errlen);
int sq_prepare(struct store *st, sqlite3_stmt **s, const char *sql);
/* Column col as text into out ("" for NULL). */
void sq_text(sqlite3_stmt *s, int col, char *out, size_t outlen);
/* Step and finalize one write: 0, STORE_EEXIST on a constraint, STORE_EFAIL. */
int sq_exec_write(struct store *st, sqlite3_stmt *s, int *changes);
/* A write binding b1 (and b2) that must hit one row, else STORE_ENOTFOUND
 * with "what name does not exist". Locks st->mu itself. */
int sq_write_one(struct store *st, const char *sql, const char *b1, const char *b2,
              const char *what, const char *name, char *err, size_t errlen);

#endif
