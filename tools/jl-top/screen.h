/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * jl-top's full-screen display, as top(1) draws it: the alternate screen,
 * the cursor hidden, standard input (when it is a terminal) in
 * non-canonical mode without echo so a key is read at once. Whatever ends
 * the program (q, Ctrl-C, SIGTERM, SIGHUP, exit, die) puts the terminal
 * back as it was; Ctrl-Z restores it before stopping and takes it again on
 * fg. Signals only write a byte to a pipe that screen_wait polls, so they
 * are handled between two frames, never inside one.
 */
#ifndef JL_TOP_SCREEN_H
#define JL_TOP_SCREEN_H

#include <stddef.h>

#include "buf.h"

enum screen_event {
	SCREEN_TIMEOUT, /* the time given passed */
	SCREEN_REDRAW,  /* draw again now: a new size (SIGWINCH), back from a stop, a key */
	SCREEN_QUIT,    /* q, Ctrl-C (SIGINT), SIGTERM, SIGHUP, or the terminal went away */
};

/*
 * Take the terminal of standard output (and standard input's keys, when it
 * is one): install the handlers, enter the alternate screen. The terminal
 * is restored by screen_close, and at exit when screen_close was not
 * called. Dies with EXIT_SOFTWARE when the signal pipe cannot be made.
 */
void screen_open(void);

/* The terminal's size; 24 rows of 80 columns when it does not say. */
void screen_size(size_t *rows, size_t *cols);

/*
 * Draw frame (lines ended by '\n', at most cols - 1 columns each, so that
 * no line wraps) from the top left of the screen, clearing what is left of
 * each line and below the last; lines past the last row are not drawn.
 * Writes through common/out.h and flushes: a write error dies with 74.
 */
void screen_draw(const struct buf *frame, size_t rows);

/* Wait at most ms milliseconds for a key or a signal; returns what happened. */
enum screen_event screen_wait(long ms);

/* Put the terminal back (out_flush first). Safe to call more than once. */
void screen_close(void);

#endif
