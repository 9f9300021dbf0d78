/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The terminal stderr is on, shared by every jlkit process writing to it
 * (doc/design.md §4.7): the file <rundir>/term/DEV holds how many lines of
 * progress block are on the screen, and its lock is held by whoever writes.
 * The cursor rests at the block's first column and line whenever the lock
 * is free. A message erases the block and is printed where it was (the
 * drawer draws the block again under it); the drawer (progress.c, who holds
 * DEV.draw) redraws the block in place.
 */
#ifndef JL_TERM_H
#define JL_TERM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Whether stderr is a terminal escape codes may be written to (not TERM=dumb). */
bool term_usable(void);

/*
 * Join the protocol when stderr is such a terminal: from then on every
 * message (util.h's report_text) is printed above the block. Returns
 * whether this process takes part (a terminal, and its file could be made).
 */
bool term_attach(void);

/* Whether term_attach joined. */
bool term_attached(void);

/* The terminal's device number (0 before term_attach). */
uint64_t term_device(void);

/* Open <rundir>/term/DEV followed by suffix (".draw"), made 0600; -1 with errno. */
int term_file(const char *suffix);

/* Take the terminal (this process's threads, then the others); returns the block's height. */
unsigned term_take(void);

/* Give it back with lines of block now on the screen. */
void term_give(unsigned lines);

/* Write all of text to stderr (under term_take, or when not attached). */
void term_write(const char *text, size_t len);

/* Print text (whole lines) above the block: take, erase the block, write, give. */
void term_message(const char *text, size_t len);

#endif
