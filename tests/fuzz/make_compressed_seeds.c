/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Writes the seeds for compressed messages: corpus/xca/ (fuzz_xca.c's
 * input: algorithm, out_cap, stream) and the compressed records added to
 * corpus/smb/ (fuzz_input.h records), built with the test compressors and
 * the message builders of tests/unit/test_smb_compress.c. By hand:
 *
 *   cc -D_GNU_SOURCE -Idataplane/xca -Idataplane/smb -Idataplane/dcerpc \
 *      -Idataplane/utf8 -Itests/lib tests/fuzz/make_compressed_seeds.c \
 *      tests/lib/xca_encode.c dataplane/xca/\*.c dataplane/smb/\*.c \
 *      dataplane/dcerpc/\*.c -lcmocka -o /tmp/seeds && \
 *   /tmp/seeds tests/fuzz/corpus
 *
 * Names are FNV-1a hashes of the content, so re-running rewrites the same
 * files.
 */
#include <stdio.h>

#define main test_smb_compress_main
#include "../unit/test_smb_compress.c"
#undef main

static const char *corpus;

static void
write_seed(const char *dir, const uint8_t *p, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;
	char path[512];
	FILE *f;
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	snprintf(path, sizeof(path), "%s/%s/%016llx", corpus, dir,
		(unsigned long long)h);
	f = fopen(path, "wb");
	if (f == NULL || fwrite(p, 1, len, f) != len) {
		perror(path);
		exit(1);
	}
	fclose(f);
}

static void
xca_seed(uint16_t alg, const uint8_t *stream, size_t len, size_t cap)
{
	static uint8_t buf[REC_MAX];

	buf[0] = (uint8_t)alg;
	buf[1] = (uint8_t)cap;
	buf[2] = (uint8_t)(cap >> 8);
	memcpy(buf + 3, stream, len);
	write_seed("xca", buf, len + 3);
}

/* One fuzz_input.h record per NBSS record, client to server. */
static size_t
fuzz_record(uint8_t *out, const uint8_t *rec, size_t len)
{
	out[0] = 0;
	out[1] = (uint8_t)len;
	out[2] = (uint8_t)(len >> 8);
	out[3] = 0;
	out[4] = 0;
	memcpy(out + 5, rec, len);
	return len + 5;
}

int
main(int argc, char **argv)
{
	static uint8_t msg[MSG_MAX], rec[REC_MAX], comp[REC_MAX],
		seed[2 * REC_MAX];
	size_t a, len, n, s;
	int which;

	if (argc != 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
		return 2;
	}
	corpus = argv[1];
	/* MS-XCA 3.1's "abc" example, and a long Pattern_V1. */
	xca_seed(XCA_LZ77, (const uint8_t *)"\xff\xff\xff\x1f" "abc"
		"\x17\x00\x0f\xff\x26\x01", 13, 300);
	xca_seed(XCA_PATTERN_V1, (const uint8_t *)"Z\0\0\0\x28\0\0\0", 8, 64);
	/* A compound CREATE, each algorithm; then as SMB records. */
	len = create_compound(msg);
	for (a = 0; a < sizeof(algorithms) / sizeof(algorithms[0]); a++) {
		n = compress(algorithms[a].alg, algorithms[a].opt, msg, len,
			comp, sizeof(comp));
		xca_seed(algorithms[a].alg, comp, n, len);
		for (which = 0; which < 4; which++) {
			s = fuzz_record(seed, rec, plain_record(rec, msg,
				tree_connect_req(msg, "\\\\srv\\ADMIN$", 0)));
			len = create_compound(msg);
			s += fuzz_record(seed + s, rec, form(which, rec, msg,
				len, algorithms[a].alg, algorithms[a].opt,
				len - 16, 16));
			len = tree_connect_req(msg, "\\\\srv\\C$", 100);
			s += fuzz_record(seed + s, rec, form(which, rec, msg,
				len, algorithms[a].alg, algorithms[a].opt,
				len - 100, 100));
			write_seed("smb", seed, s);
			len = create_compound(msg);
		}
	}
	return 0;
}
