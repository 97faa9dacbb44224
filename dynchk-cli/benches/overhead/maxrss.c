/* maxrss PRELOAD CMD ARGS...: runs CMD (its standard output to /dev/null) with LD_PRELOAD=PRELOAD,
 * or without LD_PRELOAD when PRELOAD is empty, and prints its maximum resident set in KiB
 * (wait4's ru_maxrss). The kernel counts the largest memory the child had, including the one it
 * forked with; this program is smaller than any workload, the benchmark itself is not. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 3) return 2;
  pid_t pid = fork();
  if (pid < 0) return 1;
  if (pid == 0) {
    int null = open("/dev/null", O_WRONLY);
    dup2(null, 1);
    if (argv[1][0]) setenv("LD_PRELOAD", argv[1], 1);
    else unsetenv("LD_PRELOAD");
    execvp(argv[2], argv + 2);
    _exit(127);
  }
  int status;
  struct rusage ru;
  if (wait4(pid, &status, 0, &ru) != pid) return 1;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return 1;
  printf("%ld\n", ru.ru_maxrss);
  return 0;
}
