/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "atomic_file.h"

#define ATOMIC_FILE_PATH_MAX	4096

/* fsync() of the directory holding <path>: makes a rename durable. */
static int
sync_directory(const char *path)
{
	char copy[ATOMIC_FILE_PATH_MAX];
	int fd, ret = 0;

	snprintf(copy, sizeof(copy), "%s", path);
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd) != 0)
		ret = -errno;
	close(fd);
	return ret;
}

int
atomic_file_write(const char *path, int (*fill)(FILE *out, void *arg),
	void *arg)
{
	char tmp[ATOMIC_FILE_PATH_MAX];
	FILE *out;
	int fd, ret;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	/* Whatever a crash or anyone else left there (even a symlink) goes. */
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		0640);
	if (fd < 0)
		return -errno;
	out = fdopen(fd, "w");
	if (out == NULL) {
		ret = -errno;
		close(fd);
		goto remove_tmp;
	}
	ret = fill(out, arg);
	if (fflush(out) != 0 && ret == 0)
		ret = -errno;
	if (ferror(out) && ret == 0)
		ret = -EIO;
	if (ret == 0 && fsync(fd) != 0)
		ret = -errno;
	if (fclose(out) != 0 && ret == 0)
		ret = -errno;
	if (ret != 0)
		goto remove_tmp;
	if (rename(tmp, path) != 0) {
		ret = -errno;
		goto remove_tmp;
	}
	return sync_directory(path);

remove_tmp:
	unlink(tmp);
	return ret;
}
