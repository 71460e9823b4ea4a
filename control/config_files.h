/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SMBGW_CONFIG_FILES_H
#define SMBGW_CONFIG_FILES_H

/*
 * Reading configuration files so that no file can stop or stall the
 * gateway: every file, the main one and each @include, must be a regular
 * file within CONFIG_FILE_SIZE_MAX; it is checked with stat() before it is
 * opened (a device is never opened), opened with O_NONBLOCK (a FIFO swapped
 * in meanwhile cannot block) and checked again with fstat(). Includes are
 * expanded here, not by libconfig (1.5 offers no hook to check them), into
 * one text for config_read_string(), with a map from the text's lines back
 * to each file and line.
 *
 * @include "path" follows libconfig's syntax: at the start of a line
 * (blanks before it allowed), outside comments and strings, the path in
 * double quotes with \\ and \" as its only escapes. Here a relative path is
 * taken relative to the directory of the file that includes it, and
 * nothing but blanks or a comment may follow on its line.
 */

#include <stddef.h>

#include "config.h"

/* Bytes in one file. */
#define CONFIG_FILE_SIZE_MAX (1u << 20)
/* Bytes of the whole text, every include expanded (a file may be included
 * several times). */
#define CONFIG_TEXT_SIZE_MAX (4u << 20)
/* Files read for one configuration, the main file included. */
#define CONFIG_FILES_MAX 64
/* Includes within includes: the main file is level 0. As libconfig's. */
#define CONFIG_INCLUDE_DEPTH_MAX 10

struct config_text;

/*
 * Reads <path> and every file it includes. Returns the text, or NULL with
 * one "file:line: message" in <errors> naming the file at fault (for an
 * include, the including file and line, and the included file's path) and
 * errno set: the open or stat error of the main file (ENOENT, EACCES...),
 * EISDIR or EINVAL when it is not a regular file, EFBIG when it is too big,
 * ENOMEM, or EINVAL for any problem with an included file.
 */
struct config_text *
config_text_read(const char *path, struct config_errors *errors);

/* The NUL-terminated text for config_read_string(). */
const char *
config_text_string(const struct config_text *text);

/*
 * Finds where line <line> (from 1) of the text came from: sets <file> to
 * the file's path (valid until config_text_free()) and <file_line> to its
 * line there. Returns 0, or -ERANGE when <line> is not in the text.
 */
int
config_text_locate(const struct config_text *text, int line,
	const char **file, int *file_line);

/* Frees <text> and its file names; NULL is fine. */
void
config_text_free(struct config_text *text);

#endif /* SMBGW_CONFIG_FILES_H */
