/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Supervision without a service manager: the sd_notify datagrams, the
 * heartbeat watch that decides whether the watchdog is petted, and the
 * removal of a killed instance's leftovers (only what no live process
 * holds).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "heartbeat.h"
#include "leftovers.h"
#include "sd_notify.h"

static char dir[64];

static int
make_dir(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/smbgw-supervise.XXXXXX");
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int
remove_dir(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* A datagram socket bound to <name> (a path, or '@' for abstract). */
static int
listen_dgram(const char *name)
{
	struct sockaddr_un addr;
	socklen_t len;
	int fd;

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	memset(&addr, 0, sizeof(addr));
	addr.sun_family = AF_UNIX;
	memcpy(addr.sun_path, name, strlen(name));
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
		strlen(name));
	if (name[0] == '@')
		addr.sun_path[0] = '\0';
	else
		len++;
	assert_int_equal(bind(fd, (struct sockaddr *)&addr, len), 0);
	return fd;
}

static void
expect_datagram(int fd, const char *text)
{
	char buf[256];
	ssize_t got;

	got = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	assert_true(got >= 0);
	buf[got] = '\0';
	assert_string_equal(buf, text);
}

static void
test_notify_path_socket(void **state)
{
	struct sd_notifier n;
	char path[128];
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "%s/notify", dir);
	fd = listen_dgram(path);
	assert_int_equal(sd_notifier_open(&n, path, "4000000", NULL, 42), 0);
	assert_true(sd_notifier_enabled(&n));
	assert_int_equal(n.watchdog_usec, 4000000);
	assert_int_equal(sd_notifier_send(&n, "READY=1"), 0);
	assert_int_equal(sd_notifier_send(&n, "WATCHDOG=1"), 0);
	expect_datagram(fd, "READY=1");
	expect_datagram(fd, "WATCHDOG=1");
	sd_notifier_close(&n);
	assert_false(sd_notifier_enabled(&n));
	close(fd);
}

static void
test_notify_abstract_socket(void **state)
{
	struct sd_notifier n;
	char name[64];
	int fd;

	(void)state;
	snprintf(name, sizeof(name), "@smbgw-test-notify-%d", (int)getpid());
	fd = listen_dgram(name);
	/* The watchdog is someone else's: WATCHDOG_PID names another pid. */
	assert_int_equal(sd_notifier_open(&n, name, "2000000", "41", 42), 0);
	assert_int_equal(n.watchdog_usec, 0);
	assert_int_equal(sd_notifier_send(&n, "STOPPING=1"), 0);
	expect_datagram(fd, "STOPPING=1");
	sd_notifier_close(&n);
	/* Ours: WATCHDOG_PID is this process. */
	assert_int_equal(sd_notifier_open(&n, name, "2000000", "42", 42), 0);
	assert_int_equal(n.watchdog_usec, 2000000);
	sd_notifier_close(&n);
	close(fd);
}

static void
test_notify_absent_or_bad(void **state)
{
	struct sd_notifier n;
	char longname[200];

	(void)state;
	/* No service manager: nothing to do, and sending is harmless. */
	assert_int_equal(sd_notifier_open(&n, NULL, "1000", NULL, 1), 0);
	assert_false(sd_notifier_enabled(&n));
	assert_int_equal(n.watchdog_usec, 0);
	assert_int_equal(sd_notifier_send(&n, "READY=1"), 0);
	assert_int_equal(sd_notifier_open(&n, "", NULL, NULL, 1), 0);
	assert_false(sd_notifier_enabled(&n));
	/* Neither a path nor an abstract name; too long. */
	assert_int_equal(sd_notifier_open(&n, "relative", NULL, NULL, 1),
		-EINVAL);
	memset(longname, 'a', sizeof(longname) - 1);
	longname[0] = '/';
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(sd_notifier_open(&n, longname, NULL, NULL, 1),
		-EINVAL);
	assert_false(sd_notifier_enabled(&n));
	/* A watchdog value that is not a number is no watchdog. */
	assert_int_equal(sd_notifier_open(&n, "@x", "5s", NULL, 1), 0);
	assert_int_equal(n.watchdog_usec, 0);
	sd_notifier_close(&n);
	/* Nobody listening: an error, never a block or a signal. */
	snprintf(longname, sizeof(longname), "%s/nobody", dir);
	assert_int_equal(sd_notifier_open(&n, longname, NULL, NULL, 1), 0);
	assert_true(sd_notifier_send(&n, "READY=1") < 0);
	sd_notifier_close(&n);
}

static void
test_heartbeat_watch(void **state)
{
	struct heartbeat_watch hw;
	uint64_t beats[3] = { 5, 9, 100 };
	const uint64_t ms = 1000000;

	(void)state;
	/* A 1 s watchdog: sampled every 500 ms. */
	assert_int_equal(heartbeat_watch_init(&hw, 1000000, 3, beats, 0), 0);
	assert_int_equal(hw.period_ns, 500 * ms);
	beats[0]++, beats[1]++, beats[2]++;
	assert_int_equal(heartbeat_watch_tick(&hw, beats, 499 * ms),
		HEARTBEAT_WAIT);
	assert_int_equal(heartbeat_watch_tick(&hw, beats, 500 * ms),
		HEARTBEAT_ALIVE);
	/* Not again before the next period, whatever the counters do. */
	assert_int_equal(heartbeat_watch_tick(&hw, beats, 600 * ms),
		HEARTBEAT_WAIT);
	/* Worker 1 stops: the next sample withholds the pet. */
	beats[0]++, beats[2]++;
	assert_int_equal(heartbeat_watch_tick(&hw, beats, 1000 * ms),
		HEARTBEAT_STALLED);
	assert_int_equal(hw.stalled_worker, 1);
	beats[0]++, beats[2]++;
	assert_int_equal(heartbeat_watch_tick(&hw, beats, 1500 * ms),
		HEARTBEAT_STALLED);
	/* It moves again: pets resume. */
	beats[0]++, beats[1]++, beats[2]++;
	assert_int_equal(heartbeat_watch_tick(&hw, beats, 2000 * ms),
		HEARTBEAT_ALIVE);
	assert_false(hw.stalled);
	/* A control core late by seconds samples once, then a period on. */
	beats[0]++, beats[1]++, beats[2]++;
	assert_int_equal(heartbeat_watch_tick(&hw, beats, 9000 * ms),
		HEARTBEAT_ALIVE);
	assert_int_equal(heartbeat_watch_tick(&hw, beats, 9100 * ms),
		HEARTBEAT_WAIT);
	/* Several stuck: the first one is named. */
	assert_int_equal(heartbeat_watch_tick(&hw, beats, 9500 * ms),
		HEARTBEAT_STALLED);
	assert_int_equal(hw.stalled_worker, 0);
	/* No watchdog asked for: never time. */
	assert_int_equal(heartbeat_watch_init(&hw, 0, 3, beats, 0), 0);
	assert_int_equal(heartbeat_watch_tick(&hw, beats, 1000000 * ms),
		HEARTBEAT_WAIT);
	assert_int_equal(heartbeat_watch_init(&hw, 1000,
		HEARTBEAT_WORKERS_MAX + 1, beats, 0), -EINVAL);
}

static void
test_parse_eal(void **state)
{
	char *plain[] = { "smbgw", "-l", "0-1", "--no-pci" };
	char *full[] = { "smbgw", "--file-prefix", "gw1", "--huge-dir=/mnt/h",
		"--no-huge" };
	char *joined[] = { "smbgw", "--file-prefix=gw2", "--in-memory" };
	char *dangling[] = { "smbgw", "--file-prefix" };
	char toolong[LEFTOVERS_PREFIX_MAX + 20];
	char *longer[] = { "smbgw", "--file-prefix", toolong };
	struct leftovers_eal eal;
	char path[256];

	(void)state;
	assert_int_equal(leftovers_parse_eal(4, plain, &eal), 0);
	assert_string_equal(eal.prefix, "rte");
	assert_true(eal.shared_files);
	assert_true(eal.hugepages);
	assert_null(eal.huge_dir);
	assert_int_equal(leftovers_parse_eal(5, full, &eal), 0);
	assert_string_equal(eal.prefix, "gw1");
	assert_string_equal(eal.huge_dir, "/mnt/h");
	assert_false(eal.hugepages);
	assert_int_equal(leftovers_parse_eal(3, joined, &eal), 0);
	assert_string_equal(eal.prefix, "gw2");
	assert_false(eal.shared_files);
	assert_int_equal(leftovers_parse_eal(2, dangling, &eal), 0);
	assert_string_equal(eal.prefix, "rte");
	memset(toolong, 'x', sizeof(toolong) - 1);
	toolong[sizeof(toolong) - 1] = '\0';
	assert_int_equal(leftovers_parse_eal(3, longer, &eal), -ENAMETOOLONG);
	assert_int_equal(leftovers_runtime_dir("gw1", path, sizeof(path)), 0);
	assert_non_null(strstr(path, "/dpdk/gw1"));
	assert_int_equal(leftovers_runtime_dir("gw1", path, 8), -ENAMETOOLONG);
}

static void
touch(const char *name)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);
}

static bool
exists(const char *name)
{
	char path[256];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return lstat(path, &st) == 0;
}

/*
 * A child that takes <how> on <name> (an fcntl write lock or a shared
 * flock, as DPDK's primary takes on its config and on page files) and
 * waits to be killed. Returns its pid once the lock is held.
 */
static pid_t
hold_lock(const char *name, bool use_fcntl)
{
	int ready[2];
	char path[256], c;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(pipe(ready), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct flock lock = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
		int fd = open(path, O_RDWR);

		if (fd < 0 || (use_fcntl ? fcntl(fd, F_SETLK, &lock) :
				flock(fd, LOCK_SH)) != 0)
			_exit(1);
		if (write(ready[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(ready[1]);
	assert_int_equal(read(ready[0], &c, 1), 1);
	close(ready[0]);
	return pid;
}

static void
end_child(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static void
test_runtime_dir(void **state)
{
	struct leftovers_count count = { 0 };
	char run[128];
	pid_t holder;

	(void)state;
	snprintf(run, sizeof(run), "%s/run", dir);
	assert_int_equal(mkdir(run, 0700), 0);
	touch("run/config");
	touch("run/fbarray_memseg-2048k-0-0");
	touch("run/mp_socket");
	/* A live primary holds the config lock: nothing is touched. */
	holder = hold_lock("run/config", true);
	assert_int_equal(leftovers_clean_runtime_dir(run, &count), -EBUSY);
	assert_int_equal(count.holder, holder);
	assert_int_equal(count.removed, 0);
	assert_true(exists("run/config"));
	/* Killed: its files go, and the directory. */
	end_child(holder);
	memset(&count, 0, sizeof(count));
	assert_int_equal(leftovers_clean_runtime_dir(run, &count), 0);
	assert_int_equal(count.removed, 3);
	assert_false(exists("run"));
	/* Nothing there: nothing to do. */
	assert_int_equal(leftovers_clean_runtime_dir(run, &count), 0);
}

static void
test_runtime_dir_file_in_use(void **state)
{
	struct leftovers_count count = { 0 };
	char run[128];
	pid_t holder;

	(void)state;
	snprintf(run, sizeof(run), "%s/run2", dir);
	assert_int_equal(mkdir(run, 0700), 0);
	touch("run2/config");
	touch("run2/fbarray_memseg-2048k-0-0");
	/* A secondary process still maps an fbarray: that file stays. */
	holder = hold_lock("run2/fbarray_memseg-2048k-0-0", false);
	assert_int_equal(leftovers_clean_runtime_dir(run, &count), 0);
	assert_int_equal(count.removed, 1);
	assert_int_equal(count.in_use, 1);
	assert_true(exists("run2/fbarray_memseg-2048k-0-0"));
	end_child(holder);
}

static void
test_hugepages(void **state)
{
	struct leftovers_count count = { 0 };
	pid_t holder;

	(void)state;
	touch("gw1map_0");
	touch("gw1map_1");
	touch("gw1map_2");
	touch("gw10map_0");		/* another prefix */
	touch("othermap_0");
	touch("gw1.conf");
	holder = hold_lock("gw1map_2", false);
	assert_int_equal(leftovers_clean_hugepages(dir, "gw1", &count), 0);
	assert_int_equal(count.removed, 2);
	assert_int_equal(count.in_use, 1);
	assert_false(exists("gw1map_0"));
	assert_false(exists("gw1map_1"));
	assert_true(exists("gw1map_2"));	/* a live process maps it */
	assert_true(exists("gw10map_0"));
	assert_true(exists("othermap_0"));
	assert_true(exists("gw1.conf"));
	end_child(holder);
	assert_int_equal(leftovers_clean_hugepages("/nonexistent-smbgw", "gw1",
		&count), 0);
}

static int
bind_stream(const char *path, bool do_listen)
{
	struct sockaddr_un addr;
	int fd;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	memset(&addr, 0, sizeof(addr));
	addr.sun_family = AF_UNIX;
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	if (do_listen)
		assert_int_equal(listen(fd, 4), 0);
	return fd;
}

static void
test_control_socket(void **state)
{
	struct leftovers_count count = { 0 };
	char path[128];
	pid_t holder;
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "%s/ctl.sock", dir);
	/* A killed gateway's socket and lock: both removed. */
	fd = bind_stream(path, false);
	close(fd);
	touch("ctl.sock.lock");
	assert_int_equal(leftovers_clean_socket(path, &count), 0);
	assert_int_equal(count.removed, 1);
	assert_false(exists("ctl.sock"));
	assert_false(exists("ctl.sock.lock"));
	/* A live gateway holds the lock: both stay. */
	fd = bind_stream(path, true);
	touch("ctl.sock.lock");
	holder = hold_lock("ctl.sock.lock", false);
	memset(&count, 0, sizeof(count));
	assert_int_equal(leftovers_clean_socket(path, &count), -EBUSY);
	assert_int_equal(count.removed, 0);
	assert_true(exists("ctl.sock"));
	end_child(holder);
	/* Someone answers on it without the lock: the socket stays. */
	assert_int_equal(leftovers_clean_socket(path, &count), 0);
	assert_true(exists("ctl.sock"));
	assert_false(exists("ctl.sock.lock"));
	close(fd);
	unlink(path);
	/* Not a socket: left for the control socket code to refuse. */
	touch("ctl.sock");
	assert_int_equal(leftovers_clean_socket(path, &count), 0);
	assert_true(exists("ctl.sock"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_notify_path_socket,
			make_dir, remove_dir),
		cmocka_unit_test(test_notify_abstract_socket),
		cmocka_unit_test_setup_teardown(test_notify_absent_or_bad,
			make_dir, remove_dir),
		cmocka_unit_test(test_heartbeat_watch),
		cmocka_unit_test(test_parse_eal),
		cmocka_unit_test_setup_teardown(test_runtime_dir, make_dir,
			remove_dir),
		cmocka_unit_test_setup_teardown(test_runtime_dir_file_in_use,
			make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_hugepages, make_dir,
			remove_dir),
		cmocka_unit_test_setup_teardown(test_control_socket, make_dir,
			remove_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
