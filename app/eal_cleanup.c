/* SPDX-License-Identifier: BSD-3-Clause */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <unistd.h>

#include <rte_eal.h>

#include "gateway.h"

void
gateway_eal_cleanup(void)
{
	char runtime_dir[PATH_MAX];
	struct dirent *entry;
	DIR *dir;

	snprintf(runtime_dir, sizeof(runtime_dir), "%s",
		rte_eal_get_runtime_dir());
	rte_eal_cleanup();

	/*
	 * EAL leaves its per-prefix run files behind; as the only process of
	 * our prefix we remove them so that runs do not pile up.
	 */
	dir = opendir(runtime_dir);
	if (dir == NULL)
		return;
	while ((entry = readdir(dir)) != NULL) {
		char path[PATH_MAX + 256];

		if (entry->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", runtime_dir,
			entry->d_name);
		unlink(path);
	}
	closedir(dir);
	rmdir(runtime_dir);
}
