/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * smbgw: inline SMB gateway. This file only reads the command line and the
 * configuration and hands over to the live or offline runner.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "gateway.h"
#include "supervise.h"

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: smbgw [EAL options] -- [-c FILE] [-e EVE.json]\n"
		"                                            run on DPDK ports\n"
		"       smbgw -r CAPTURE.pcap [-c FILE] [-e EVE.json]\n"
		"                                            analyse a capture file\n"
		"       smbgw --check-config FILE           validate a configuration\n"
		"       smbgw --print-default-config        show the built-in configuration\n"
		"       smbgw --version\n"
		"Without -c the built-in configuration is used; -e writes the EVE\n"
		"log to EVE.json instead of output.eve. --debug-commands (after --,\n"
		"tests only) enables \"smbgwctl debug stall-worker N\".\n");
}

static void
print_errors(const struct config_errors *errors)
{
	unsigned int i;

	for (i = 0; i < errors->count; i++)
		fprintf(stderr, "%s\n", errors->messages[i]);
	if (errors->dropped > 0)
		fprintf(stderr, "(%u more errors not shown)\n",
			errors->dropped);
}

/* Loads <path>, or the built-in configuration when it is NULL. */
static int
load_config(const char *path, struct gateway_config *cfg)
{
	static struct config_errors errors;
	int ret;

	if (path != NULL)
		ret = config_load_file(path, cfg, &errors);
	else
		ret = config_load_string("<default>", config_default_text,
			cfg, &errors);
	if (ret != 0)
		print_errors(&errors);
	return ret;
}

/* -e FILE: the EVE log goes to FILE whatever output.eve says. */
static int
set_eve_path(struct gateway_config *cfg, const char *path)
{
	if (path == NULL)
		return 0;
	if (strlen(path) >= sizeof(cfg->output.path)) {
		fprintf(stderr, "smbgw: -e: path longer than %zu bytes\n",
			sizeof(cfg->output.path) - 1);
		return -1;
	}
	snprintf(cfg->output.path, sizeof(cfg->output.path), "%s", path);
	cfg->eve_path_overridden = true;
	return 0;
}

static int
check_config(const char *path)
{
	static struct gateway_config cfg;

	if (load_config(path, &cfg) != 0)
		return EXIT_FAILURE;
	printf("%s: valid (%s mode, %u ports, %u workers)\n", path,
		config_mode_name(cfg.mode), cfg.port_count, cfg.workers);
	return EXIT_SUCCESS;
}

/* Options after "--" (live) or of the offline mode: -c FILE and -r FILE. */
static int
parse_app_options(int argc, char **argv, const char **config_path,
	const char **pcap_path, const char **eve_path)
{
	static const struct option long_options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "eve", required_argument, NULL, 'e' },
		{ "read", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ "debug-commands", no_argument, NULL, 'D' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "c:e:r:h", long_options,
			NULL)) != -1) {
		switch (opt) {
		case 'c':
			*config_path = optarg;
			break;
		case 'e':
			*eve_path = optarg;
			break;
		case 'r':
			if (pcap_path == NULL) {
				fprintf(stderr,
					"smbgw: -r cannot be combined with EAL options\n");
				return -1;
			}
			*pcap_path = optarg;
			break;
		case 'D':
			/* Test only: lets smbgwctl stall a worker. */
			supervise_allow_debug_commands(true);
			break;
		case 'h':
			usage(stdout);
			exit(EXIT_SUCCESS);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "smbgw: unexpected argument '%s'\n",
			argv[optind]);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static struct gateway_config cfg;
	const char *config_path = NULL;
	const char *pcap_path = NULL;
	const char *eve_path = NULL;
	int separator;

	if (argc >= 2 && strcmp(argv[1], "--check-config") == 0) {
		if (argc != 3) {
			usage(stderr);
			return EXIT_FAILURE;
		}
		return check_config(argv[2]);
	}
	if (argc == 2 && strcmp(argv[1], "--print-default-config") == 0) {
		fputs(config_default_text, stdout);
		return EXIT_SUCCESS;
	}
	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		printf("smbgw %s\n", SMBGW_VERSION);
		return EXIT_SUCCESS;
	}
	if (argc >= 2 && (strcmp(argv[1], "-h") == 0 ||
			strcmp(argv[1], "--help") == 0)) {
		usage(stdout);
		return EXIT_SUCCESS;
	}

	/* Offline: no EAL options on the command line at all. */
	if (argc >= 2 && (strcmp(argv[1], "-r") == 0 ||
			strcmp(argv[1], "--read") == 0)) {
		if (parse_app_options(argc, argv, &config_path,
				&pcap_path, &eve_path) != 0)
			return EXIT_FAILURE;
		if (load_config(config_path, &cfg) != 0 ||
				set_eve_path(&cfg, eve_path) != 0)
			return EXIT_FAILURE;
		return gateway_run_offline(&cfg, pcap_path);
	}

	for (separator = 1; separator < argc; separator++)
		if (strcmp(argv[separator], "--") == 0)
			break;
	if (separator < argc) {
		/* getopt wants a program name in front of the options. */
		argv[separator] = argv[0];
		if (parse_app_options(argc - separator, argv + separator,
				&config_path, NULL, &eve_path) != 0)
			return EXIT_FAILURE;
	}
	if (load_config(config_path, &cfg) != 0 ||
			set_eve_path(&cfg, eve_path) != 0)
		return EXIT_FAILURE;
	return gateway_run_live(&cfg, separator, argv);
}
