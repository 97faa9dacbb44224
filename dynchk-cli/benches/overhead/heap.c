/* Heap costs, timed by the program itself: argv[1] is the mode, argv[2] the operations; prints
   the nanoseconds the loop took. -fno-builtin keeps memcmp a call into the C library.
     pairs  malloc+free pairs of 16..272 bytes (the block record's cost per pair)
     heap   memcmp of 8 bytes at two pointers into 256-byte heap blocks (two heap lookups a call)
     stack  the same on stack buffers (the call and its checks without the heap lookups)
     deep   the same at offsets 3 MB deep inside two 5 MB blocks (within 64 KiB there, so that
            cache misses do not drown the lookups), as sort's line buffer is used */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static long long now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000LL + t.tv_nsec;
}

int main(int argc, char **argv) {
    if (argc < 3)
        return 2;
    const char *mode = argv[1];
    long n = atol(argv[2]);
    volatile long sum = 0;
    char sa[256], sb[256];
    memset(sa, 1, sizeof sa);
    memset(sb, 1, sizeof sb);
    char *a = sa, *b = sb;
    size_t span = 248, big = 5 << 20;
    if (!strcmp(mode, "heap") || !strcmp(mode, "deep")) {
        size_t len = mode[0] == 'h' ? 256 : big;
        a = malloc(len);
        b = malloc(len);
        memset(a, 1, len);
        memset(b, 1, len);
        if (len == big) {
            a += 3 << 20;
            b += 3 << 20;
            span = 64 << 10;
        } else {
            span = len - 8;
        }
    } else if (strcmp(mode, "pairs") && strcmp(mode, "stack")) {
        return 2;
    }
    long long start = now();
    if (mode[0] == 'p') {
        for (long i = 0; i < n; i++) {
            char *volatile p = malloc(16 + (i & 15) * 16);
            free(p);
        }
    } else {
        /* A stride that visits the whole span, deep and shallow alike. */
        size_t at = 0;
        for (long i = 0; i < n; i++) {
            sum += memcmp(a + at, b + at, 8);
            at = (at + 4099) % span;
        }
    }
    printf("%lld\n", now() - start);
    return (int)(sum & 1);
}
