/* SPDX-License-Identifier: BSD-3-Clause */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "leftovers.h"

static int
set_prefix(struct leftovers_eal *eal, const char *prefix)
{
	if (strlen(prefix) >= sizeof(eal->prefix))
		return -ENAMETOOLONG;
	snprintf(eal->prefix, sizeof(eal->prefix), "%s", prefix);
	return 0;
}

/* "--name VALUE" or "--name=VALUE": the value, or NULL. */
static const char *
option_value(int argc, char **argv, int *i, const char *name)
{
	size_t len = strlen(name);

	if (strncmp(argv[*i], name, len) != 0)
		return NULL;
	if (argv[*i][len] == '=')
		return argv[*i] + len + 1;
	if (argv[*i][len] == '\0' && *i + 1 < argc) {
		(*i)++;
		return argv[*i];
	}
	return NULL;
}

int
leftovers_parse_eal(int argc, char **argv, struct leftovers_eal *eal)
{
	const char *value;
	int i, ret;

	memset(eal, 0, sizeof(*eal));
	snprintf(eal->prefix, sizeof(eal->prefix), "rte");
	eal->shared_files = true;
	eal->hugepages = true;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--in-memory") == 0 ||
				strcmp(argv[i], "--no-shconf") == 0) {
			eal->shared_files = false;
		} else if (strcmp(argv[i], "--no-huge") == 0) {
			eal->hugepages = false;
		} else if ((value = option_value(argc, argv, &i,
				"--file-prefix")) != NULL) {
			ret = set_prefix(eal, value);
			if (ret != 0)
				return ret;
		} else if ((value = option_value(argc, argv, &i,
				"--huge-dir")) != NULL) {
			eal->huge_dir = value;
		}
	}
	return 0;
}

int
leftovers_runtime_dir(const char *prefix, char *out, size_t out_len)
{
	const char *base = "/var/run";
	int len;

	if (getuid() != 0) {
		base = getenv("XDG_RUNTIME_DIR");
		if (base == NULL)
			base = "/tmp";
	}
	len = snprintf(out, out_len, "%s/dpdk/%s", base, prefix);
	return len < 0 || (size_t)len >= out_len ? -ENAMETOOLONG : 0;
}

/* The pid of a process holding a lock on <fd>'s file, or 0. */
static pid_t
lock_holder(int fd)
{
	struct flock probe;

	memset(&probe, 0, sizeof(probe));
	probe.l_type = F_WRLCK;
	probe.l_whence = SEEK_SET;
	probe.l_start = 0;
	probe.l_len = 0;	/* the whole file */
	if (fcntl(fd, F_GETLK, &probe) != 0)
		return 0;
	return probe.l_type == F_UNLCK ? 0 : probe.l_pid;
}

/*
 * Removes <path> unless a process holds a flock on it (DPDK keeps one on
 * every hugepage and fbarray file it uses). Returns 1 removed, 0 kept.
 */
static int
remove_unless_flocked(int dir_fd, const char *name)
{
	int fd, removed = 0;

	fd = openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
		O_NONBLOCK);
	if (fd < 0)
		/* A socket or a dangling entry: no one can hold it. */
		return unlinkat(dir_fd, name, 0) == 0;
	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		removed = unlinkat(dir_fd, name, 0) == 0;
	close(fd);
	return removed;
}

int
leftovers_clean_runtime_dir(const char *dir, struct leftovers_count *count)
{
	char config[PATH_MAX];
	struct dirent *entry;
	pid_t holder;
	DIR *d;
	int fd;

	if (snprintf(config, sizeof(config), "%s/config", dir) >=
			(int)sizeof(config))
		return -ENAMETOOLONG;
	fd = open(config, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd >= 0) {
		holder = lock_holder(fd);
		/*
		 * Closing drops this process's fcntl locks on the file: fine
		 * here, before EAL takes its own.
		 */
		close(fd);
		if (holder != 0) {
			count->holder = holder;
			return -EBUSY;
		}
	}
	d = opendir(dir);
	if (d == NULL)
		return errno == ENOENT ? 0 : -errno;
	while ((entry = readdir(d)) != NULL) {
		if (strcmp(entry->d_name, ".") == 0 ||
				strcmp(entry->d_name, "..") == 0)
			continue;
		if (entry->d_type == DT_DIR)
			continue;
		if (remove_unless_flocked(dirfd(d), entry->d_name))
			count->removed++;
		else
			count->in_use++;
	}
	closedir(d);
	rmdir(dir);
	return 0;
}

int
leftovers_clean_hugepages(const char *huge_dir, const char *prefix,
	struct leftovers_count *count)
{
	char pattern[LEFTOVERS_PREFIX_MAX + 8];
	struct dirent *entry;
	size_t len;
	DIR *d;

	len = (size_t)snprintf(pattern, sizeof(pattern), "%smap_", prefix);
	if (len >= sizeof(pattern))
		return -ENAMETOOLONG;
	d = opendir(huge_dir);
	if (d == NULL)
		return errno == ENOENT ? 0 : -errno;
	while ((entry = readdir(d)) != NULL) {
		if (strncmp(entry->d_name, pattern, len) != 0 ||
				entry->d_type == DT_DIR)
			continue;
		if (remove_unless_flocked(dirfd(d), entry->d_name))
			count->removed++;
		else
			count->in_use++;
	}
	closedir(d);
	return 0;
}

/* Whether a process accepts connections on the socket <path>. */
static bool
socket_answers(const char *path)
{
	struct sockaddr_un addr;
	bool answers;
	int fd;

	if (strlen(path) >= sizeof(addr.sun_path))
		return true;	/* not ours to judge: leave it */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return true;
	memset(&addr, 0, sizeof(addr));
	addr.sun_family = AF_UNIX;
	memcpy(addr.sun_path, path, strlen(path));
	answers = connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0 ||
		errno != ECONNREFUSED;
	close(fd);
	return answers;
}

int
leftovers_clean_socket(const char *path, struct leftovers_count *count)
{
	char lock_path[PATH_MAX];
	struct stat st;
	int lock_fd;

	if (snprintf(lock_path, sizeof(lock_path), "%s.lock", path) >=
			(int)sizeof(lock_path))
		return -ENAMETOOLONG;
	lock_fd = open(lock_path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (lock_fd >= 0 && flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
		close(lock_fd);
		return errno == EWOULDBLOCK ? -EBUSY : 0;
	}
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode) &&
			!socket_answers(path) && unlink(path) == 0)
		count->removed++;
	if (lock_fd >= 0) {
		/*
		 * Removed while held, so no one takes the old file meanwhile;
		 * not counted: a clean stop leaves it too.
		 */
		unlink(lock_path);
		close(lock_fd);
	}
	return 0;
}
