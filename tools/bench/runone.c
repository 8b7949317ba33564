/*
 * runone - run one command and report its wall time, CPU time and peak RSS.
 *
 *   runone TIMEOUT_S AS_LIMIT_BYTES CMD [ARG...]
 *
 * Why a separate process: Linux keeps the larger of the exec'd program's peak
 * RSS and that of the image it was forked from, so a child forked from the
 * Python runner would report the runner's ~20 MB as its floor. Forked from
 * this small program, the floor is ~1 MB. Output goes to /dev/null; prints one
 * JSON object: wall_s, user_s, sys_s, rss_kb, exit (or signal), timeout.
 *
 * Build: gcc -O2 -std=c11 -D_DEFAULT_SOURCE runone.c -o runone
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: runone TIMEOUT_S AS_LIMIT_BYTES CMD [ARG...]\n");
        return 2;
    }
    double timeout = strtod(argv[1], NULL);
    unsigned long long as_limit = strtoull(argv[2], NULL, 10);
    double t0 = now();
    pid_t pid = fork();
    if (pid < 0) {
        perror("runone: fork");
        return 1;
    }
    if (pid == 0) {
        int fd = open("/dev/null", O_RDWR);
        if (fd >= 0) {
            dup2(fd, 0);
            dup2(fd, 1);
            dup2(fd, 2);
        }
        if (as_limit > 0) {
            struct rlimit rl = {(rlim_t)as_limit, (rlim_t)as_limit};
            setrlimit(RLIMIT_AS, &rl);
        }
        execvp(argv[3], argv + 3);
        _exit(127);
    }
    int status = 0;
    struct rusage ru;
    int timed_out = 0;
    for (;;) {
        pid_t r = wait4(pid, &status, WNOHANG, &ru);
        if (r == pid) {
            break;
        }
        if (r < 0 && errno != EINTR) {
            perror("runone: wait4");
            return 1;
        }
        if (!timed_out && now() - t0 > timeout) {
            kill(pid, SIGKILL);
            timed_out = 1;
        }
        /* 1 ms polling: at most 1 ms added to a wall time measured in seconds. */
        struct timespec d = {0, 1000000};
        nanosleep(&d, NULL);
    }
    double wall = now() - t0;
    printf("{\"wall_s\": %.6f, \"user_s\": %.6f, \"sys_s\": %.6f, \"rss_kb\": %ld, "
           "\"exit\": %d, \"signal\": %d, \"timeout\": %s}\n",
           wall, (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6,
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6, ru.ru_maxrss,
           WIFEXITED(status) ? WEXITSTATUS(status) : -1, WIFSIGNALED(status) ? WTERMSIG(status) : 0,
           timed_out ? "true" : "false");
    return 0;
}
