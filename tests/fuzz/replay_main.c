/*
 * Replays a fuzz corpus without libFuzzer: every regular file under the
 * directory given as argv[1] (recursively) is passed once to
 * LLVMFuzzerTestOneInput. Built with each tests/fuzz/fuzz_<target>.c when
 * TSC_FUZZ is off and run by ctest (label "fuzz"), normally under ASan/UBSan.
 *
 * Exit status: 0 when at least one input ran; 1 when the directory is missing,
 * unreadable or holds no input, or a file cannot be read.
 */
#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REPLAY_MAX_DEPTH 8                 /* subdirectory nesting followed */
#define REPLAY_MAX_FILE ((size_t)16 << 20) /* larger inputs are an error */
#define REPLAY_MAX_FILES 1000000           /* inputs run per invocation */

struct replay {
    unsigned long ran;
    int failed;
};

static int run_file(struct replay *r, const char *path, size_t size)
{
    if (size > REPLAY_MAX_FILE) {
        fprintf(stderr, "replay: %s: larger than %zu bytes\n", path, REPLAY_MAX_FILE);
        return -1;
    }
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    /* An exact-size heap copy, so ASan catches reads past the input. */
    uint8_t *buf = malloc(size ? size : 1);
    if (buf == NULL) {
        fclose(f);
        fprintf(stderr, "replay: %s: out of memory\n", path);
        return -1;
    }
    size_t got = fread(buf, 1, size, f);
    fclose(f);
    if (got != size) {
        free(buf);
        fprintf(stderr, "replay: %s: short read\n", path);
        return -1;
    }
    (void)LLVMFuzzerTestOneInput(buf, size);
    free(buf);
    r->ran++;
    return 0;
}

static int walk(struct replay *r, const char *dir, int depth)
{
    if (depth > REPLAY_MAX_DEPTH) {
        fprintf(stderr, "replay: %s: nested too deep, skipped\n", dir);
        return 0;
    }
    DIR *d = opendir(dir);
    if (d == NULL) {
        fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
        return -1;
    }
    int rc = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL && r->ran < REPLAY_MAX_FILES) {
        if (de->d_name[0] == '.') {
            continue; /* ".", "..", and hidden files such as .gitkeep */
        }
        char path[4096];
        int n = snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        if (n < 0 || (size_t)n >= sizeof(path)) {
            fprintf(stderr, "replay: %s/%s: path too long\n", dir, de->d_name);
            rc = -1;
            continue;
        }
        struct stat st;
        if (stat(path, &st) != 0) {
            fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
            rc = -1;
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            if (walk(r, path, depth + 1) != 0) {
                rc = -1;
            }
        } else if (S_ISREG(st.st_mode)) {
            if (run_file(r, path, (size_t)st.st_size) != 0) {
                rc = -1;
            }
        }
    }
    closedir(d);
    return rc;
}

int main(int argc, char **argv)
{
    struct replay r = {0, 0};
    if (argc != 2) {
        fprintf(stderr, "usage: %s <corpus-dir>\n", argv[0]);
        return 1;
    }
    int rc = walk(&r, argv[1], 0);
    printf("replay: %lu inputs ran from %s\n", r.ran, argv[1]);
    if (rc != 0) {
        return 1;
    }
    if (r.ran == 0) {
        fprintf(stderr, "replay: %s: no inputs\n", argv[1]);
        return 1;
    }
    return 0;
}
