/* Thread scaling: argv[1] threads, each making argv[2] rounds of small checked calls on its own
   stack and descriptor: 8 strlen and 8 memcpy (checks of stack memory, no system call), a 1-byte
   read and an fstat. Every thread does the same work, so a checker that serialises threads shows
   as a checked/plain ratio growing with the count. */
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static long rounds;

static void *work(void *arg) {
    (void)arg;
    int fd = open("/dev/zero", O_RDONLY);
    char src[64] = "a short string that strlen measures and memcpy copies", dst[64], b;
    struct stat st;
    size_t sum = 0;
    for (long i = 0; i < rounds; i++) {
        for (int k = 0; k < 8; k++) {
            sum += strlen(src + k);
            memcpy(dst + k, src, sizeof src - 8);
        }
        sum += read(fd, &b, 1);
        sum += fstat(fd, &st) == 0;
    }
    close(fd);
    return (void *)sum;
}

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 1;
    rounds = argc > 2 ? atol(argv[2]) : 10000;
    pthread_t t[64];
    if (n < 1 || n > 64) return 2;
    for (int i = 0; i < n; i++)
        if (pthread_create(&t[i], NULL, work, NULL)) return 1;
    for (int i = 0; i < n; i++) pthread_join(t[i], NULL);
    return 0;
}
